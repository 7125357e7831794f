"""Video files in: probe, and stream frames with OpenCV (one RGB uint8 frame at a time, never all in memory).

Writing is in ``encode.py``: H.264 (libx264), yuv420p, ``crf`` for quality; ``.webm`` cannot hold H.264, so it gets VP9 +
Opus instead. yuv420p needs even dimensions: an odd width or height is padded by ONE pixel that repeats
the last column/row (nothing is cropped away, no black bar). The frame rate is written as an exact
fraction (30000/1001 stays 30000/1001). Audio is muxed in from a source file in a second, cheap pass
once the frame count is known, trimmed to the frames' time span (stream copy when the container accepts
the codec, else re-encoded to AAC, or Opus for webm).
"""
from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import VidstyleError
from .chroma import ChromaUpsampler, codec_layout
from .images import quiet_opencv, resize_long_side
from .path_registry import opencv_name

__all__ = ["quiet_opencv"]  # the one OpenCV log silencer lives in images.py; camera.py takes it from here

# Keep libav's own messages (e.g. "moov atom not found") off the user's terminal; errors become VidstyleError.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

VIDEO_INPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".gif", ".mpg", ".mpeg",
                          ".wmv", ".flv", ".ts", ".mts", ".3gp", ".ogv")
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm")

def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover - broken installation
        raise VidstyleError(f"the bundled ffmpeg binary is missing: {exc}") from None


def ffmpeg_path(path: str | os.PathLike) -> str:
    """A file name for ffmpeg's command line: absolute, so a name with a colon (``take:2.mp4``, or a temporary
    ``.take:2.mp4...``) is never read as a protocol."""
    return os.path.abspath(path)


def is_video_path(path: str | os.PathLike) -> bool:
    """True when the extension is a video container OpenCV's FFmpeg backend decodes."""
    return Path(path).suffix.lower() in VIDEO_INPUT_EXTENSIONS


@dataclass(frozen=True)
class VideoInfo:
    """What the pipeline needs to know about an input video."""

    path: Path
    width: int
    height: int
    fps: Fraction  # exact frame rate, e.g. Fraction(30000, 1001)
    frame_count: int | None  # container's estimate (OpenCV); None when unknown
    has_audio: bool
    audio_codec: str | None
    audio_tracks: int = 0  # audio streams in the file (the output keeps the first)
    # variable frame rate: the frames' timestamps are uneven, so ``fps`` is the average rate (frame count /
    # duration) that keeps the duration and the whole audio; None when the rate is constant
    variable_rate: tuple[float, Fraction] | None = None  # (duration in seconds, the rate the stream declares)
    # the picture's size changes mid-stream (a .ts or .mkv joined from two sources): (seconds, width, height)
    # of each key frame whose size differs from the one before; empty for the usual stream of one size
    size_changes: tuple[tuple[float, int, int], ...] = ()


def exact_fps(value: float) -> Fraction:
    """Turn a floating frame rate into the exact fraction it stands for (29.97002997 -> 30000/1001)."""
    if not value or not math.isfinite(value) or value <= 0:
        raise ValueError("no frame rate")
    frac = Fraction(value).limit_denominator(1001)
    if abs(float(frac) - value) > 1e-6 * value:  # an unusual rate: keep it as precise as a float allows
        frac = Fraction(value).limit_denominator(1_000_000)
    return frac


def _ffmpeg_stream_info(path: Path) -> str:
    """ffmpeg's description of the input (stderr of ``ffmpeg -i``)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_path(path)],
                          capture_output=True, text=True, errors="replace", timeout=60)
    return proc.stderr


def _open_capture(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VidstyleError(f"video not found: {path}")
    if not path.is_file():
        raise VidstyleError(f"not a video file: {path}")
    with quiet_opencv(), opencv_name(path) as name:  # a name that is not UTF-8 crashed OpenCV (SIGSEGV)
        cap = cv2.VideoCapture(name, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VidstyleError(f"cannot read video {path} (corrupt or unsupported format)")
    return cap


def probe_video(path: str | os.PathLike, *, sizes: bool = True) -> VideoInfo:
    """Size, exact fps, estimated frame count and audio of a video; VidstyleError if it has no decodable frame.
    ``sizes``: also find where the picture size changes (a decode of the key frames; callers that only want
    the audio leave it out)."""
    p = Path(path)
    cap = _open_capture(p)
    try:
        with quiet_opencv():
            ok, frame = cap.read()
        if not ok or frame is None:
            raise VidstyleError(f"video {p} has no decodable frames (empty or corrupt)")
        height, width = frame.shape[:2]
        raw_fps = cap.get(cv2.CAP_PROP_FPS)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    info = _ffmpeg_stream_info(p)
    try:
        fps = exact_fps(raw_fps)
    except ValueError:
        m = re.search(r"Video:.*?, ([\d.]+) (?:fps|tbr)", info)
        fps = exact_fps(float(m.group(1))) if m else Fraction(25)
    audio_codecs = re.findall(r"Stream #\d+:\d+\S*: Audio: (\w+)", info)  # one per audio track
    frame_count = count if count > 0 else None
    variable = _variable_rate(info, fps, frame_count)
    if variable is not None:
        fps = exact_fps(frame_count / variable)  # type: ignore[operator]  # frame_count is known here
    return VideoInfo(path=p, width=width, height=height, fps=fps, frame_count=frame_count,
                     has_audio=bool(audio_codecs), audio_codec=audio_codecs[0] if audio_codecs else None,
                     audio_tracks=len(audio_codecs),
                     variable_rate=None if variable is None else (variable, _declared(fps, info)),
                     size_changes=_size_changes(p, (width, height)) if sizes else ())


def _size_changes(path: Path, first: tuple[int, int]) -> tuple[tuple[float, int, int], ...]:
    """(seconds, width, height) where the stream's picture size changes. A new size starts at a key frame, so
    ffmpeg decodes the key frames alone (``-skip_frame nokey``: about a tenth of a second for a 720p clip).
    OpenCV cannot tell: it scales every frame to the first frame's size, whatever its aspect."""
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-skip_frame", "nokey", "-i",
                               ffmpeg_path(path), "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"],
                              capture_output=True, text=True, errors="replace", timeout=120)
    except subprocess.TimeoutExpired:
        return ()  # a stream too long to scan in time: decoded as before, at the first frame's size
    changes: list[tuple[float, int, int]] = []
    size = first
    for m in re.finditer(r"pts_time:\s*(-?[\d.]+)\b.*?\bs:(\d+)x(\d+)", proc.stderr):
        now = (int(m.group(2)), int(m.group(3)))
        if now != size:
            changes.append((max(0.0, float(m.group(1))), *now))
            size = now
    return tuple(changes)


def _declared(fps: Fraction, info: str) -> Fraction:
    m = re.search(r"Video:.*?, ([\d.]+) fps", info)
    return exact_fps(float(m.group(1))) if m else fps


def _variable_rate(info: str, fps: Fraction, count: int | None) -> float | None:
    """The duration in seconds of a video whose frames are unevenly timed, else None.

    Variable when ffmpeg's average rate differs from the stream's base rate ("6.25 fps, 25 tbr") and
    count / rate misses the container's duration by more than a frame: encoded at that rate, the output
    would be shorter or longer than the input and its audio cut."""
    rates = re.search(r"Video:.*?, ([\d.]+) fps, ([\d.]+k?) tbr", info)
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", info)
    if count is None or rates is None or duration is None or rates.group(1) == rates.group(2):
        return None
    seconds = int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
    if seconds <= 0 or abs(count / float(fps) - seconds) <= 1.5 / float(fps):
        return None
    return seconds


def frame_range(fps: Fraction, start: float | None = None, end: float | None = None,
                max_frames: int | None = None) -> tuple[int, int | None]:
    """Indices [first, stop) of the frames whose timestamps i/fps lie in [start, end), at most max_frames.

    ``stop`` is None when the range is open-ended (read to the end of the video).
    """
    if start is not None and start < 0:
        raise VidstyleError("--start must be >= 0 seconds")
    if end is not None and start is not None and end <= start:
        raise VidstyleError("--end must be later than --start")
    if max_frames is not None and max_frames < 1:
        raise VidstyleError("--max-frames must be at least 1")
    # Fraction(str(t)) reads the seconds as typed (0.04 -> 1/25): Fraction(0.04) is a hair above 1/25 and
    # would round frame 1 up to frame 2.
    first = math.ceil(Fraction(str(start)) * fps) if start else 0
    stop = math.ceil(Fraction(str(end)) * fps) if end is not None else None
    if max_frames is not None:
        stop = first + max_frames if stop is None else min(stop, first + max_frames)
    return first, stop


def iter_video_frames(path: str | os.PathLike, *, start: float | None = None, end: float | None = None,
                      max_frames: int | None = None, size: int | None = None,
                      fps: Fraction | None = None, even: bool = False,
                      fit: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Yield the video's frames one by one as HxWx3 RGB uint8, optionally trimmed and resized (``even``: to
    even sides, images.fitted_size).

    Frame i has timestamp i/fps (``fps`` from ``probe_video`` when not given); frames before ``start`` are
    skipped by decoding (exact, not keyframe seeking). Subsampled colour (yuv420p) is interpolated, as a
    player does, where OpenCV repeated it (chroma.py). Raises VidstyleError when the video cannot be opened or
    yields no frame in the range.

    ``fit`` (width, height): a stream whose picture size changes (``VideoInfo.size_changes``) is decoded by
    ffmpeg instead, every frame fitted into that size with its aspect kept and black bars, where OpenCV would
    stretch it to the first frame's size.
    """
    p = Path(path)
    if fps is None and (start or end is not None):
        fps = probe_video(p).fps
    first, stop = frame_range(fps or Fraction(1), start, end, max_frames)
    produced = 0
    for index, rgb in enumerate(_opencv_frames(p, size, first) if fit is None else _fitted_frames(p, fit, first)):
        if stop is not None and index >= stop:
            break
        if rgb is None:  # skipped by grabbing, not decoded
            continue
        produced += 1
        yield resize_long_side(rgb, size, even=even)
    if produced == 0:
        raise VidstyleError(f"video {p} has no frames in the requested range")


def _opencv_frames(p: Path, size: int | None, first: int) -> Iterator[np.ndarray | None]:
    """The stream's frames as RGB by OpenCV; None for the frames before ``first`` (grabbed, not decoded)."""
    cap = _open_capture(p)
    layout = codec_layout(cap.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT))
    chroma = ChromaUpsampler(layout) if layout is not None else None
    index = 0
    try:
        with quiet_opencv():
            while True:
                if index < first:
                    if not cap.grab():
                        break
                    index += 1
                    yield None
                    continue
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    break
                index += 1
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                # Shrinking to half size or less averages whole blocks anyway (INTER_AREA): skip the work.
                if chroma is not None and (size is None or 2 * size > max(rgb.shape[:2])):
                    rgb = chroma.apply(rgb)
                yield rgb
    finally:
        cap.release()


def _fitted_frames(p: Path, fit: tuple[int, int], first: int) -> Iterator[np.ndarray | None]:
    """The stream's frames as RGB by ffmpeg, each fitted into ``fit`` (width, height) with its aspect kept
    and black bars; one output frame per decoded frame (``-fps_mode passthrough``), as OpenCV gives."""
    if not p.is_file():
        raise VidstyleError(f"video not found: {p}")
    w, h = fit
    scale = (f"scale={w}:{h}:force_original_aspect_ratio=decrease:flags=area,"
             f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1")
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", ffmpeg_path(p),
                             "-map", "0:v:0", "-vf", scale, "-fps_mode", "passthrough", "-pix_fmt", "rgb24",
                             "-f", "rawvideo", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    index = 0
    try:
        while True:
            data = proc.stdout.read(w * h * 3)
            if len(data) < w * h * 3:
                break
            yield np.frombuffer(data, np.uint8).reshape(h, w, 3).copy() if index >= first else None
            index += 1
    finally:
        proc.kill()
        proc.stdout.close()
        proc.wait()
