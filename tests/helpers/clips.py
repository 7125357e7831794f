"""Generate small test clips with the bundled ffmpeg (test helpers, not fixtures)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

from vidstyle.io.video_files import ffmpeg_exe


def make_clip(path: Path, *, size: str = "64x48", rate: str = "30000/1001", frames: int = 12,
              audio: bool = False, source: str = "testsrc", vcodec: str = "libx264", pix_fmt: str = "yuv420p") -> Path:
    """A test-pattern clip with exactly ``frames`` frames at ``rate``, optionally with a 440 Hz sine track.

    ``source`` may be any lavfi video source (testsrc, or e.g. a slowly moving smooth pattern).
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=10"]
    cmd += ["-frames:v", str(frames), "-c:v", vcodec, "-pix_fmt", pix_fmt]
    if audio:
        cmd += ["-c:a", "aac", "-shortest"]
    subprocess.run([*cmd, str(path)], check=True)
    return path


def audio_codec(path: Path) -> str | None:
    """The first audio stream's codec name in ``path`` according to ffmpeg, or None."""
    import re

    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                         capture_output=True, text=True).stderr
    m = re.search(r"Audio: (\w+)", err)
    return m.group(1) if m else None


def count_frames_ffmpeg(path: Path) -> int:
    """Frames in ``path`` counted by decoding with ffmpeg (independent of OpenCV)."""
    import re

    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    return int(re.findall(r"frame=\s*(\d+)", err)[-1])


def frame_times(path: Path) -> list[float]:
    """Presentation time in seconds of every video frame, read by ffmpeg's showinfo filter."""
    import re

    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0",
                          "-vf", "showinfo", "-f", "null", "-"], capture_output=True, text=True).stderr
    return [float(t) for t in re.findall(r"pts_time:\s*([\d.]+)", err)]


def opencv_frames(path: Path) -> list[np.ndarray]:
    """Every frame as OpenCV alone decodes it (RGB; 4:2:0 colour repeated over 2x2 blocks, not interpolated)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames
