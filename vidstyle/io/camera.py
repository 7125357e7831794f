"""Camera sources for live mode: a device index, a video file or a stream URL, read on a capture thread.

The capture thread keeps only the newest frame: a consumer that falls behind gets the latest picture, never
a backlog. A real camera paces itself (``read`` blocks until the next frame); a video FILE is paced at its
own frame rate so that it behaves like a camera. The end of a file sets ``state`` to ``"ended"``; a device
or stream that stops delivering frames for ``lost_after`` seconds sets it to ``"lost"``.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from ..errors import VidstyleError
from .images import resize_long_side
from .path_registry import opencv_name
from .video_files import exact_fps, quiet_opencv

DEFAULT_DEVICE_FPS = Fraction(30)  # when a device does not report its rate
DEFAULT_FILE_FPS = Fraction(25)


class Capture(Protocol):
    """What Camera needs from a cv2.VideoCapture (tests pass fakes)."""

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class Frame:
    """One camera picture at the processing size."""

    index: int  # 0, 1, 2, ... in capture order (frames dropped by consumers still count)
    image: np.ndarray  # H x W x 3 RGB uint8; never modified after capture
    time: float  # time.perf_counter() when it was captured


def parse_source(source: str | int) -> int | str:
    """``"0"`` -> device index 0; anything else (a path, a URL) stays a string."""
    if isinstance(source, int):
        return source
    text = str(source).strip()
    return int(text) if text.isdigit() else text


def is_stream_url(source: str) -> bool:
    """True for URLs such as rtsp://, http://, udp://."""
    return "://" in source


class Camera:
    """A running capture thread over one source; see the module docstring.

    ``capture`` is an opened cv2.VideoCapture (or a fake with ``read``/``release``). ``first`` is a frame
    already read from it (BGR), delivered as frame 0. Every frame is converted to RGB, resized to ``size``
    (long side; even sides, as a recording needs), mirrored when ``mirror``, and kept at frame 0's size.
    """

    def __init__(self, capture: Capture, name: str, *, is_file: bool, fps: Fraction | float,
                 size: int | None, mirror: bool = False, first: np.ndarray | None = None,
                 lost_after: float = 2.0) -> None:
        self.name = name
        self.is_file = is_file
        self.fps = Fraction(fps)
        self.size = size
        self.mirror = mirror
        self.lost_after = lost_after
        self.state = "ready"  # ready -> running -> ended | lost | stopped
        self.captured = 0
        self._capture = capture
        self._shape: tuple[int, int] | None = None
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None
        if first is not None:
            self._publish(first)

    # --- consumer side ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int] | None:
        """(height, width) of the delivered frames, once the first frame is known."""
        return self._shape

    @property
    def finished(self) -> bool:
        """True once no new frame will come (end of file, lost camera or stopped)."""
        return self.state in ("ended", "lost", "stopped")

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one."""
        with self._cond:
            return self._latest

    def wait_newer(self, after: int, timeout: float) -> Frame | None:
        """The newest frame with index > ``after``; None if none arrives within ``timeout`` seconds."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while self._latest is None or self._latest.index <= after:
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or self.finished:
                    return None
                self._cond.wait(remaining)
            return self._latest

    # --- control ------------------------------------------------------------------------------------
    def start(self) -> Camera:
        """Start the capture thread."""
        if self._thread is None:
            self.state = "running"
            self._thread = threading.Thread(target=self._run, name=f"camera {self.name}", daemon=True)
            self._thread.start()
        return self

    def pause(self, paused: bool) -> None:
        """Pause a FILE camera (playback holds still); a real camera keeps capturing."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the thread and release the source (idempotent)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # blocked in a device read: leave the daemon thread, do not release under it
                self._set_state("stopped")
                return
        if self._capture is not None:
            self._capture.release()
            self._capture = None  # type: ignore[assignment]
        if not self.finished:
            self._set_state("stopped")

    def __enter__(self) -> Camera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- capture thread -----------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        with self._cond:
            if not self.finished:
                self.state = state
            self._cond.notify_all()

    def _publish(self, bgr: np.ndarray) -> None:
        image = resize_long_side(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.size, even=True)
        if self._shape is None:
            self._shape = image.shape[:2]
        elif image.shape[:2] != self._shape:  # a source that changes resolution keeps the first one
            image = cv2.resize(image, (self._shape[1], self._shape[0]), interpolation=cv2.INTER_AREA)
        if self.mirror:
            image = cv2.flip(image, 1)
        frame = Frame(self.captured, np.ascontiguousarray(image), time.perf_counter())
        with self._cond:
            self._latest = frame  # older frames are dropped
            self.captured += 1
            self._cond.notify_all()

    def _run(self) -> None:
        period = 1.0 / float(self.fps) if self.is_file else 0.0
        due = time.perf_counter() + period if self._latest is not None else time.perf_counter()
        failing_since: float | None = None
        try:
            while not self._stop.is_set():
                if self.is_file and self._paused.is_set():
                    self._stop.wait(0.02)
                    due = time.perf_counter()
                    continue
                if period:
                    delay = due - time.perf_counter()
                    if delay > 0 and self._stop.wait(delay):
                        break
                with quiet_opencv():
                    ok, bgr = self._capture.read()
                now = time.perf_counter()
                if not ok or bgr is None:
                    if self.is_file:
                        self._set_state("ended")
                        return
                    failing_since = now if failing_since is None else failing_since
                    if now - failing_since >= self.lost_after:
                        self._set_state("lost")
                        return
                    self._stop.wait(0.01)
                    continue
                failing_since = None
                self._publish(bgr)
                if period:
                    due += period
                    if now - due > period:  # fell behind (slow decode): resynchronise instead of bursting
                        due = now
        except Exception:  # a broken backend counts as a lost camera; the consumer stops cleanly
            self._set_state("lost")
        finally:
            if self.state == "running" and self._stop.is_set():
                self._set_state("stopped")


def open_camera(source: str | int, *, size: int | None, mirror: bool = False) -> Camera:
    """Open ``source`` (device index, video file or stream URL) and read its first frame; thread not started.

    Raises VidstyleError naming the source when it cannot be opened or delivers no frame.
    """
    src = parse_source(source)
    name = str(source)
    is_file = False
    if isinstance(src, str) and not is_stream_url(src):
        path = Path(src)
        if not path.exists():
            raise VidstyleError(f"cannot open camera {name!r}: no such file, device or device index")
        is_file = path.is_file()  # /dev/video0 is a character device: a real camera
    with quiet_opencv(silent=True), contextlib.ExitStack() as names:  # probing backends logs errors for every
        if isinstance(src, str) and not is_stream_url(src):               # one that does not know the source
            src = names.enter_context(opencv_name(Path(src)))  # OpenCV crashed on names that are not UTF-8
        cap = cv2.VideoCapture(src)
        opened = cap.isOpened()
        ok, bgr = cap.read() if opened else (False, None)
    if not opened:
        cap.release()
        hint = (" (no camera with that index, or it is busy; give --camera another index, a video file or a "
                "stream URL)" if isinstance(src, int) else " (unreadable file or unreachable stream)")
        raise VidstyleError(f"cannot open camera {name!r}{hint}")
    if not ok or bgr is None:
        cap.release()
        raise VidstyleError(f"camera {name!r} opened but delivered no frame")
    try:
        fps = exact_fps(cap.get(cv2.CAP_PROP_FPS))
    except ValueError:
        fps = DEFAULT_FILE_FPS if is_file else DEFAULT_DEVICE_FPS
    if fps > 240:  # some devices report nonsense such as 1000
        fps = DEFAULT_DEVICE_FPS
    return Camera(cap, name, is_file=is_file, fps=fps, size=size, mirror=mirror, first=bgr)
