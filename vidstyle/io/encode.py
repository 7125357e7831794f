"""Video files out: stream RGB frames through the bundled ffmpeg, then mux the source's audio.

``VideoWriter`` pipes each frame straight into an ffmpeg process, so frames are never all in memory; the
target appears only when the whole file is written (temporary file, then rename). See ``video_files.py`` for the
container, codec and audio rules.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import VidstyleError
from .atomic import CommitOnSuccess, atomic_path, commit_output, temp_path
from .video_files import VIDEO_OUTPUT_EXTENSIONS, ffmpeg_exe, ffmpeg_path, probe_video

# Audio codecs each output container takes as a stream copy (anything else is re-encoded).
_COPYABLE_AUDIO = {
    ".mp4": {"aac", "mp3", "alac", "ac3", "eac3"},
    ".mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_s16be", "pcm_s24be"},
    ".mkv": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le", "dts"},
    ".webm": {"opus", "vorbis"},
}



def even_frame(frame: np.ndarray) -> np.ndarray:
    """Pad an odd width/height by one pixel repeating the last column/row (yuv420p needs even sizes)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _video_codec_args(suffix: str, crf: int) -> list[str]:
    if suffix == ".webm":
        return ["-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-row-mt", "1", "-pix_fmt", "yuv420p"]
    # tune grain: painted texture is fine grain to x264. With its default dead zone and I/P quality gap each
    # P-frame drops a little of the strokes that changed, and a shot fades away from its I-frame (measured on
    # camera-like clips: 0.78-0.84 of frame 0's style strength kept at frame 39, 0.93-0.95 with grain;
    # README, Temporal coherence)
    args = ["-c:v", "libx264", "-preset", "medium", "-tune", "grain", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if suffix in (".mp4", ".mov", ".m4v"):
        args += ["-movflags", "+faststart"]
    return args


class VideoWriter(CommitOnSuccess):
    """Stream RGB frames into a video file; the target appears only when ``close()`` succeeds.

    Use as a context manager: an exception inside the block kills ffmpeg and removes every temporary file.
    ``audio_source`` (a video with an audio stream) is muxed in, starting at ``audio_start`` seconds.
    """

    def __init__(self, path: str | os.PathLike, fps: Fraction, *, crf: int = 18,
                 audio_source: str | os.PathLike | None = None, audio_start: float = 0.0,
                 replace: bool = True) -> None:
        self.path = Path(path)
        self.replace = replace  # False: a target that appears while encoding is kept (VidstyleError)
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

    def _start(self, width: int, height: int) -> None:
        self._video_tmp = temp_path(self.path, "video")
        self._log = tempfile.TemporaryFile()
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
               "-an", *_video_codec_args(self.suffix, self.crf), ffmpeg_path(self._video_tmp)]
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
            try:
                self._proc.stdin.close()  # flushes: raises if ffmpeg died
            except (BrokenPipeError, OSError):
                pass  # the exit code below says what happened
            if self._proc.wait() != 0:
                raise VidstyleError(f"ffmpeg could not write {self.path}: {self._log_tail()}")
            assert self._video_tmp is not None
            try:
                if self.audio_source is None:  # the encoded file itself: a rename keeps its temporary's mark
                    commit_output(self._video_tmp, self.path, replace=self.replace)
                else:
                    with atomic_path(self.path, replace=self.replace) as tmp:
                        mux_audio(self._video_tmp, self.audio_source, tmp, start=self.audio_start,
                                  duration=self.frames / self.fps)
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
    codec = probe_video(audio_source, sizes=False).audio_codec
    fallback = ["-c:a", "libopus", "-b:a", "128k"] if suffix == ".webm" else ["-c:a", "aac", "-b:a", "192k"]
    attempts = [["-c:a", "copy"], fallback] if codec in _COPYABLE_AUDIO.get(suffix, set()) else [fallback]
    err = ""
    for audio_args in attempts:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", ffmpeg_path(video),
               "-ss", f"{float(start):.6f}", "-i", ffmpeg_path(audio_source), "-map", "0:v:0", "-map", "1:a:0?",
               "-c:v", "copy", *audio_args, "-t", f"{float(duration):.6f}"]
        if suffix in (".mp4", ".mov"):
            cmd += ["-movflags", "+faststart"]
        proc = subprocess.run([*cmd, ffmpeg_path(out)], capture_output=True, text=True, errors="replace")
        if proc.returncode == 0:
            return
        err = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
    raise VidstyleError(f"cannot add the audio of {audio_source} to {out.name}: {err}")
