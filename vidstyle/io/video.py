"""Video files: probe, stream frames in with OpenCV, stream frames out through the bundled ffmpeg.

Frames are never all in memory: ``iter_video_frames`` yields one RGB uint8 frame at a time and
``VideoWriter`` pipes each frame straight into an ffmpeg process.

Encoding: H.264 (libx264), yuv420p, ``crf`` for quality; ``.webm`` cannot hold H.264, so it gets VP9 +
Opus instead. yuv420p needs even dimensions: an odd width or height is padded by ONE pixel that repeats
the last column/row (nothing is cropped away, no black bar). The frame rate is written as an exact
fraction (30000/1001 stays 30000/1001). Audio is muxed in from a source file in a second, cheap pass
once the frame count is known, trimmed to the frames' time span (stream copy when the container accepts
the codec, else re-encoded to AAC, or Opus for webm).
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Iterator

import cv2
import numpy as np

from ..errors import VidstyleError
from .atomic import atomic_path
from .images import resize_long_side

# Keep libav's own messages (e.g. "moov atom not found") off the user's terminal; errors become VidstyleError.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

VIDEO_INPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".gif", ".mpg", ".mpeg",
                          ".wmv", ".flv", ".ts", ".mts", ".3gp", ".ogv")
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm")

# Audio codecs each output container takes as a stream copy (anything else is re-encoded).
_COPYABLE_AUDIO = {
    ".mp4": {"aac", "mp3", "alac", "ac3", "eac3"},
    ".mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_s24be"},
    ".mkv": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le", "dts"},
    ".webm": {"opus", "vorbis"},
}


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:  # pragma: no cover - broken installation
        raise VidstyleError(f"the bundled ffmpeg binary is missing: {exc}") from None


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


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while opening/reading (we report problems ourselves)."""
    logging = cv2.utils.logging
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(old)


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
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, errors="replace", timeout=60)
    return proc.stderr


def _open_capture(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VidstyleError(f"video not found: {path}")
    if not path.is_file():
        raise VidstyleError(f"not a video file: {path}")
    with _quiet_opencv():
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VidstyleError(f"cannot read video {path} (corrupt or unsupported format)")
    return cap


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Size, exact fps, estimated frame count and audio of a video; VidstyleError if it has no decodable frame."""
    p = Path(path)
    cap = _open_capture(p)
    try:
        with _quiet_opencv():
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
    audio = re.search(r"Stream #\d+:\d+\S*: Audio: (\w+)", info)
    return VideoInfo(path=p, width=width, height=height, fps=fps, frame_count=count if count > 0 else None,
                     has_audio=audio is not None, audio_codec=audio.group(1) if audio else None)


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
                      fps: Fraction | None = None) -> Iterator[np.ndarray]:
    """Yield the video's frames one by one as HxWx3 RGB uint8, optionally trimmed and resized.

    Frame i has timestamp i/fps (``fps`` from ``probe_video`` when not given); frames before ``start`` are
    skipped by decoding (exact, not keyframe seeking). Raises VidstyleError when the video cannot be
    opened or yields no frame in the range.
    """
    p = Path(path)
    if fps is None and (start or end is not None):
        fps = probe_video(p).fps
    first, stop = frame_range(fps or Fraction(1), start, end, max_frames)
    cap = _open_capture(p)
    index = produced = 0
    try:
        with _quiet_opencv():
            while stop is None or index < stop:
                if index < first:
                    if not cap.grab():
                        break
                    index += 1
                    continue
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    break
                index += 1
                produced += 1
                yield resize_long_side(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size)
    finally:
        cap.release()
    if produced == 0:
        raise VidstyleError(f"video {p} has no frames in the requested range")


def even_frame(frame: np.ndarray) -> np.ndarray:
    """Pad an odd width/height by one pixel repeating the last column/row (yuv420p needs even sizes)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _video_codec_args(suffix: str, crf: int) -> list[str]:
    if suffix == ".webm":
        return ["-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-row-mt", "1", "-pix_fmt", "yuv420p"]
    args = ["-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if suffix in (".mp4", ".mov", ".m4v"):
        args += ["-movflags", "+faststart"]
    return args


class VideoWriter:
    """Stream RGB frames into a video file; the target appears only when ``close()`` succeeds.

    Use as a context manager: an exception inside the block kills ffmpeg and removes every temporary file.
    ``audio_source`` (a video with an audio stream) is muxed in, starting at ``audio_start`` seconds.
    """

    def __init__(self, path: str | os.PathLike, fps: Fraction, *, crf: int = 18,
                 audio_source: str | os.PathLike | None = None, audio_start: float = 0.0) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in VIDEO_OUTPUT_EXTENSIONS:
            raise VidstyleError(f"unsupported video output {self.path.suffix!r}; use one of "
                                f"{', '.join(VIDEO_OUTPUT_EXTENSIONS)}")
        if not 0 <= crf <= 51:
            raise VidstyleError("--crf must be between 0 and 51")
        self.fps = Fraction(fps)
        self.crf = crf
        self.audio_source = Path(audio_source) if audio_source is not None else None
        self.audio_start = audio_start
        self.frames = 0
        self._size: tuple[int, int] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._video_tmp: Path | None = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _start(self, width: int, height: int) -> None:
        fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".video{self.path.suffix}",
                                    dir=self.path.parent if str(self.path.parent) else ".")
        os.close(fd)
        self._video_tmp = Path(name)
        self._log = tempfile.TemporaryFile()
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
               "-an", *_video_codec_args(self.suffix, self.crf), str(self._video_tmp)]
        # own session: a Ctrl-C in the terminal must reach only vidstyle, which then finishes the file itself
        # (ffmpeg stopping on its own SIGINT would break the pipe mid-write, e.g. in `vidstyle live --record`)
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log,
                                      start_new_session=True)

    def write(self, frame: np.ndarray) -> None:
        """Append one HxWx3 RGB uint8 frame (all frames must have the first frame's size)."""
        frame = even_frame(np.ascontiguousarray(frame, dtype=np.uint8))
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._start(w, h)
        elif self._size != (w, h):
            raise VidstyleError(f"frame {self.frames} is {w}x{h}, expected {self._size[0]}x{self._size[1]}")
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(frame.tobytes())
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise VidstyleError(f"ffmpeg stopped while writing {self.path}: {self._log_tail()}") from None
        self.frames += 1

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "unknown error"

    def close(self) -> None:
        """Finish encoding, mux the audio and move the result to the target path."""
        if self._proc is None:
            raise VidstyleError(f"no frames to write to {self.path}")
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            if self._proc.wait() != 0:
                raise VidstyleError(f"ffmpeg could not write {self.path}: {self._log_tail()}")
            assert self._video_tmp is not None
            try:
                with atomic_path(self.path) as tmp:
                    if self.audio_source is not None:
                        mux_audio(self._video_tmp, self.audio_source, tmp, start=self.audio_start,
                                  duration=self.frames / self.fps)
                    else:
                        os.replace(self._video_tmp, tmp)
            except OSError as exc:
                raise VidstyleError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        finally:
            self._cleanup()

    def abort(self) -> None:
        """Stop ffmpeg and delete temporary files; the target is left untouched."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.closed:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        if self._video_tmp is not None:
            with contextlib.suppress(OSError):
                self._video_tmp.unlink()
        if self._log is not None:
            self._log.close()
            self._log = None


def mux_audio(video: Path, audio_source: Path, out: Path, *, start: float, duration: Fraction) -> None:
    """Write ``out`` = video stream of ``video`` + audio of ``audio_source`` from ``start`` for ``duration`` s.

    Copies the audio when the container accepts its codec, otherwise re-encodes (AAC; Opus for webm).
    A source without audio gives a silent output.
    """
    suffix = out.suffix.lower()
    codec = probe_video(audio_source).audio_codec
    fallback = ["-c:a", "libopus", "-b:a", "128k"] if suffix == ".webm" else ["-c:a", "aac", "-b:a", "192k"]
    attempts = [["-c:a", "copy"], fallback] if codec in _COPYABLE_AUDIO.get(suffix, set()) else [fallback]
    err = ""
    for audio_args in attempts:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(video),
               "-ss", f"{float(start):.6f}", "-i", str(audio_source), "-map", "0:v:0", "-map", "1:a:0?",
               "-c:v", "copy", *audio_args, "-t", f"{float(duration):.6f}"]
        if suffix in (".mp4", ".mov"):
            cmd += ["-movflags", "+faststart"]
        proc = subprocess.run([*cmd, str(out)], capture_output=True, text=True, errors="replace")
        if proc.returncode == 0:
            return
        err = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
    raise VidstyleError(f"cannot add the audio of {audio_source} to {out.name}: {err}")
