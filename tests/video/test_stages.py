"""The pipelined video loop: decoding, optimisation and frame writing run on three different threads, the
queues between them are bounded, and errors of the helper threads reach the caller as themselves."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import MEDIA, WEIGHTS, smooth_image

import vidstyle.video.pipeline as pipeline
from vidstyle import Config, VidstyleError, stylize_video
from vidstyle.engine import Stylizer
from vidstyle.io.images import write_image
from vidstyle.video.stages import Decoder
from vidstyle.video.workdir import WorkDir


def test_decode_optimise_and_write_run_on_different_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    src.mkdir()
    big = smooth_image(24, 28, seed=2)
    for i in range(4):
        write_image(src / f"f{i + 1}.png", np.ascontiguousarray(big[:, i:i + 24]))
    threads: dict[str, list[str]] = {"decode": [], "optimise": [], "write": []}
    real_frames, real_stylize, real_save = pipeline.iter_frame_dir, Stylizer.stylize, WorkDir.save

    def frames(*args: object, **kw: object):  # noqa: ANN202
        for frame in real_frames(*args, **kw):
            threads["decode"].append(threading.current_thread().name)
            yield frame

    def stylize(self: Stylizer, *args: object, **kw: object):  # noqa: ANN202
        threads["optimise"].append(threading.current_thread().name)
        return real_stylize(self, *args, **kw)

    def save(self: WorkDir, *args: object) -> None:
        threads["write"].append(threading.current_thread().name)
        real_save(self, *args)

    monkeypatch.setattr(pipeline, "iter_frame_dir", frames)
    monkeypatch.setattr(Stylizer, "stylize", stylize)
    monkeypatch.setattr(WorkDir, "save", save)
    config = Config(preset="fast", weights=str(WEIGHTS), device="cpu", size=24, iterations=1, first_iterations=1,
                    quiet=True, seed=0, optimizer="adam")
    stylize_video(src, MEDIA / "starry_night.jpg", tmp_path / "out", config)
    assert len(threads["optimise"]) == 4 and len(threads["write"]) == 4
    names = {stage: set(found) for stage, found in threads.items()}
    assert names["optimise"] == {threading.main_thread().name}
    assert names["write"] == {"vidstyle-write"}
    assert "vidstyle-decode" in names["decode"]  # the reference frame is decoded up front, the rest ahead
    assert not (names["write"] & names["optimise"]) and not ({"vidstyle-decode"} & names["optimise"])


def test_decoder_stays_bounded_and_hands_on_its_errors() -> None:
    made: list[int] = []

    def stream():  # noqa: ANN202
        for i in range(100):
            made.append(i)
            if i == 7:
                raise VidstyleError("corrupt frame 7")
            yield np.full((2, 2, 3), i, np.uint8)

    with Decoder(stream, ahead=2) as decoded:
        it = iter(decoded)
        assert int(next(it)[0, 0, 0]) == 0
        threading.Event().wait(0.2)
        assert len(made) <= 4  # one taken, two queued, one waiting to be queued
        with pytest.raises(VidstyleError, match="corrupt frame 7"):
            list(it)


def test_a_stream_that_cannot_open_raises_in_the_consumer() -> None:
    def stream():  # noqa: ANN202
        raise VidstyleError("cannot open")

    with Decoder(stream) as decoded, pytest.raises(VidstyleError, match="cannot open"):
        list(decoded)
