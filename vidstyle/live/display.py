"""What live mode shows: the stylized result carried onto the current camera frame, and the window itself.

``compose`` is the heart of the responsive display: the newest stylization result was made for an older
camera frame; the backward optical flow from the current frame to that one moves it into place and the
camera's change since is carried into it (temporal/carry.carried), so motion stays fluid at camera rate
while the optimiser catches up.

The window is OpenCV's highgui. The opencv-python wheels use Qt5 on Linux, whose xcb plugin *aborts the
process* (no exception) when no X server can be reached, so the display is checked in a child process first
(``check_display``): no DISPLAY/WAYLAND_DISPLAY, an unreachable server or an OpenCV without GUI support each
become a VidstyleError suggesting --no-window.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidstyleError
from ..io.camera import Frame
from ..temporal.flow import FlowEstimator
from .keys import LiveStatus
from .worker import Stylized, carry

WINDOW_TITLE = "vidstyle live"
_PROBE = ("import cv2, numpy; cv2.namedWindow('vidstyle display check', cv2.WINDOW_AUTOSIZE); "
          "cv2.imshow('vidstyle display check', numpy.zeros((8, 8, 3), numpy.uint8)); cv2.waitKey(1); "
          "cv2.destroyAllWindows()")


def compose(frame: Frame, stylized: Stylized | None, flow: FlowEstimator) -> np.ndarray:
    """The picture to show for ``frame``: the newest result carried onto it (the raw frame before any)."""
    if stylized is None or stylized.image.shape != frame.image.shape:
        return frame.image
    if stylized.frame.index == frame.index:
        return stylized.image
    return carry(stylized, frame.image, flow)


def window_image(shown: np.ndarray, original: np.ndarray | None, status: LiveStatus | None,
                 long_side: int) -> np.ndarray:
    """The BGR picture for the window: ``shown`` (and ``original`` beside it) scaled up, overlay on top."""
    panels = [original, shown] if original is not None else [shown]
    image = np.hstack(panels) if len(panels) > 1 else shown
    h, w = shown.shape[:2]
    scale = long_side / max(h, w)
    if abs(scale - 1) > 1e-3:
        image = cv2.resize(image, (round(image.shape[1] * scale), round(h * scale)),
                           interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if status is not None:
        draw_overlay(image, overlay_lines(status))
    return image


def overlay_lines(status: LiveStatus) -> list[str]:
    """The h overlay: display fps, updates/s, latency, style."""
    lines = [f"display {status.display_fps:.1f} fps", f"stylization {status.updates_per_second:.1f} updates/s",
             f"latency {status.latency_ms:.0f} ms", f"style {status.style_name} (weight x{status.weight_scale:g})"]
    if status.paused:
        lines.append("PAUSED")
    return lines


def draw_overlay(image: np.ndarray, lines: list[str]) -> None:
    """White text on a darkened box, top left, in place."""
    font, scale, step = cv2.FONT_HERSHEY_SIMPLEX, 0.55, 22
    width = max(cv2.getTextSize(line, font, scale, 1)[0][0] for line in lines)
    box = image[:min(image.shape[0], 8 + step * len(lines)), :min(image.shape[1], width + 16)]
    box[:] = (box * 0.4).astype(np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(image, line, (8, 20 + step * i), font, scale, (255, 255, 255), 1, cv2.LINE_AA)


# --- the window -----------------------------------------------------------------------------------------
def _qt_platforms() -> set[str] | None:
    """Platform plugins bundled with opencv-python's Qt (e.g. {'xcb'}); None when cv2 bundles no Qt."""
    folder = Path(cv2.__file__).parent / "qt" / "plugins" / "platforms"
    if not folder.is_dir():
        return None
    return {p.name[len("libq"):].split(".")[0] for p in folder.glob("libq*.so*")}


def prepare_qt_environment(env: dict[str, str] | os._Environ = os.environ) -> None:
    """Let the bundled Qt start on desktops that select a platform it lacks, and quiet its font warnings.

    Wayland desktops often export QT_QPA_PLATFORM=wayland; the opencv-python wheels ship only the xcb plugin,
    and Qt aborts on an unknown platform. With an X server (or XWayland) reachable through DISPLAY, xcb works.
    The wheels also ship no fonts, so Qt warns about its font folder on every start (highgui draws no Qt text).
    """
    platforms = _qt_platforms()
    if platforms is None:
        return
    wanted = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if wanted and wanted not in platforms and "xcb" in platforms and env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "xcb"
    env.setdefault("QT_LOGGING_RULES", "default.warning=false")


def check_display() -> None:
    """Raise VidstyleError (suggesting --no-window) when no window can be opened; see the module docstring."""
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise VidstyleError("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                                "use --no-window to run headless (with --record to keep the result)")
        prepare_qt_environment()
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, errors="replace",
                              timeout=60)
        ok, detail = proc.returncode == 0, _last_line(proc.stderr)
    except subprocess.TimeoutExpired:
        ok, detail = False, "opening a test window timed out"
    if not ok:
        where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or "this system"
        raise VidstyleError(f"cannot open a window on display {where} ({detail}); use --no-window to run headless")


def _last_line(text: str) -> str:
    """The telling line of a window-system error: Qt's "could not connect to display", else the last one."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    telling = [ln for ln in lines if "could not connect" in ln or "cannot" in ln.lower() or "error" in ln.lower()]
    return (telling or lines or ["the window system refused"])[0]


class WindowView:
    """The highgui window: ``show`` a BGR picture, ``poll`` keys (pumps the GUI), ``closed`` after a click on X."""

    def __init__(self, title: str = WINDOW_TITLE) -> None:
        self.title = title
        self._shown = False
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise VidstyleError(f"cannot open a window ({_last_line(str(exc))}); "
                                "use --no-window to run headless") from None

    def show(self, image: np.ndarray) -> None:
        cv2.imshow(self.title, image)
        self._shown = True

    def poll(self, status: LiveStatus, wait_ms: int = 1) -> int | None:
        key = cv2.waitKey(max(1, wait_ms))
        return None if key < 0 else key & 0xFF

    def closed(self) -> bool:
        """True once the user closed the window (before the first picture it cannot be closed)."""
        if not self._shown:
            return False
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
