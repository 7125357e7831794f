"""The live worker: updates published for the display, earlier passes shown while the rest run."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from vidstyle import build_stylizer
from vidstyle.io.camera import Frame
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.live.config import live_engine_config
from vidstyle.live.worker import StyleWorker, Stylized


class StillCamera:
    """A camera that keeps showing one frame (what the worker asks a camera for)."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def latest(self) -> Frame:
        return self.frame

    def wait_newer(self, after: int, timeout: float) -> Frame | None:
        time.sleep(min(timeout, 0.01))
        return None


class Watched:
    """A Stylizer whose callback notes, after every pass, what the worker offers the display and as latest."""

    def __init__(self, stylizer, notes: list) -> None:  # noqa: ANN001
        self._stylizer, self.notes = stylizer, notes
        self.worker: StyleWorker | None = None

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._stylizer, name)

    def stylize(self, content, *, callback=None, **kw):  # noqa: ANN001, ANN003, ANN201
        def noted(i, losses):  # noqa: ANN001, ANN202
            callback(i, losses)
            self.notes.append((i, self.worker.picture(), self.worker.latest()))
        return self._stylizer.stylize(content, callback=noted, **kw)


@pytest.mark.parametrize("show_passes", [True, False])
def test_an_updates_earlier_passes_are_shown_while_the_rest_run(weights_path: Path, tubingen: Path,
                                                                 starry_night: Path, show_passes: bool) -> None:
    photo = resize_long_side(read_image(tubingen), 64, even=True)
    frame = Frame(0, photo, time.perf_counter())
    config = live_engine_config(size=64, iterations=3, weights=str(weights_path), device="cpu", quiet=True)
    notes: list = []
    stylizer = Watched(build_stylizer(config, read_image(starry_night), reference=photo), notes)
    worker = StyleWorker(StillCamera(frame), lambda i: stylizer, 3, threads=1, stylizers={0: stylizer},
                         show_passes=show_passes)
    stylizer.worker = worker
    seed = Stylized(photo, frame, 0, time.perf_counter(), 0.0)
    worker.seed(seed)
    worker.start()
    deadline = time.time() + 60
    while worker.updates < 1 and worker.error is None and time.time() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert worker.error is None and worker.updates >= 1
    first = notes[:3]
    assert [i for i, _, _ in first] == [1, 2, 3]
    assert all(latest is seed for _, _, latest in first)  # the update counts only once it is finished
    if show_passes:
        # passes 1 and 2: the picture of this update so far, for the update's camera frame, a new one each pass
        shown = [picture for _, picture, _ in first[:2]]
        assert all(p is not seed and p.frame is frame for p in shown)
        assert not np.array_equal(shown[0].image, photo) and not np.array_equal(shown[1].image, shown[0].image)
    else:
        assert all(picture is seed for _, picture, _ in first)
    assert worker.picture() is worker.latest() and worker.latest() is not seed
