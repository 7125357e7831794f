"""Camera sources: opening errors, file pacing, newest-frame-only, end of file, lost camera, mirror."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.clips import make_clip

from vidstyle.errors import VidstyleError
from vidstyle.io.camera import Camera, open_camera, parse_source


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("cam") / "clip.mp4", size="64x48", rate="30", frames=15)


class FakeDevice:
    """A device that delivers ``frames`` frames at ``fps`` and then fails (unplugged)."""

    def __init__(self, frames: int, fps: float = 50.0) -> None:
        self.left, self.period, self.released = frames, 1.0 / fps, False

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(self.period)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((30, 40, 3), 10 * self.left % 256, np.uint8)

    def release(self) -> None:
        self.released = True


def test_parse_source() -> None:
    assert parse_source("0") == 0 and parse_source(" 2 ") == 2
    assert parse_source("clip.mp4") == "clip.mp4" and parse_source("rtsp://h/x") == "rtsp://h/x"


def test_open_errors_name_the_source(tmp_path: Path) -> None:
    with pytest.raises(VidstyleError, match="nope.mp4"):
        open_camera(str(tmp_path / "nope.mp4"), size=32)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VidstyleError, match="garbage.mp4"):
        open_camera(str(garbage), size=32)
    with pytest.raises(VidstyleError, match="'97'"):
        open_camera("97", size=32)


def test_file_camera_is_paced_delivers_every_frame_and_ends(clip: Path) -> None:
    cam = open_camera(str(clip), size=32)
    assert cam.is_file and cam.fps == 30 and cam.shape == (24, 32)
    seen, last, start = [], -1, time.perf_counter()
    with cam.start():
        while True:
            frame = cam.wait_newer(last, 2.0)
            if frame is None:
                break
            seen.append(frame.index)
            last = frame.index
        elapsed = time.perf_counter() - start
    assert cam.state == "ended" and cam.captured == 15
    # paced at 30 fps: 14 frame periods after frame 0 (decoding 15 tiny frames unpaced takes ~10 ms)
    assert elapsed >= 0.4
    assert seen[0] == 0 and seen == sorted(seen) and len(seen) >= 10


def test_keeps_only_the_newest_frame(clip: Path) -> None:
    cam = open_camera(str(clip), size=32).start()
    try:
        time.sleep(0.3)  # a slow consumer: several frames arrive meanwhile
        frame = cam.latest()
        assert frame is not None and frame.index >= 3
        assert frame.index == cam.captured - 1  # the newest one, the older ones are gone
        newer = cam.wait_newer(frame.index, 1.0)
        assert newer is not None and newer.index > frame.index
    finally:
        cam.stop()
    assert cam.state in ("stopped", "ended")


def test_lost_device_stops_cleanly() -> None:
    device = FakeDevice(frames=5)
    ok, first = device.read()
    cam = Camera(device, "fake0", is_file=False, fps=50, size=20, first=first, lost_after=0.2).start()
    last, got = -1, 0
    while (frame := cam.wait_newer(last, 2.0)) is not None:
        last, got = frame.index, got + 1
    assert cam.state == "lost" and cam.captured == 5 and got >= 1
    cam.stop()
    assert device.released


def test_mirror_flips_horizontally(clip: Path) -> None:
    with open_camera(str(clip), size=32) as cam:
        plain = cam.latest()
    with open_camera(str(clip), size=32, mirror=True) as cam:
        mirrored = cam.latest()
    assert plain is not None and mirrored is not None
    assert not np.array_equal(plain.image, mirrored.image)
    np.testing.assert_array_equal(mirrored.image, plain.image[:, ::-1])
