"""The composition root: a Config is resolved once into frozen settings, the pipelines run on those, and the
per-frame loop reports to the watchers it is given."""
from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import smooth_image
from tests.helpers.clips import make_clip

from vidstyle import Config, build_stylizer, stylize_video
from vidstyle.compose import on_this_machine, resolve_engine, resolve_run, resolve_temporal
from vidstyle.config import TEMPORAL_WEIGHTS
from vidstyle.engine import make_stylizer
from vidstyle.io.images import write_image
from vidstyle.settings import EngineSettings
from vidstyle.video.loop import stylize_frames
from vidstyle.video.pipeline import RunOutcome
from vidstyle.progress.frame_bar import FrameEvents, FrameUpdate, Watchers


def cfg(weights: Path, **kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(weights), size=24, iterations=2, quiet=True, seed=0,
                                   device="cpu")
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("units", ["scaled", "paper"])
def test_defaults_are_resolved_once_per_unit_system(units):
    config = Config(loss_units=units, iterations=7, device="cpu")
    temporal, engine = resolve_temporal(config), resolve_engine(config, video=True)
    assert temporal.weight == TEMPORAL_WEIGHTS[units] and temporal.first_iterations == 14
    assert dict(engine.loss_weights)["style"] == (6.0 if units == "scaled" else 1e3)
    assert engine.temporal_slot  # flow with gamma > 0
    assert not resolve_engine(config.replace(temporal_weight=0.0), video=True).temporal_slot
    assert not resolve_engine(config).temporal_slot  # a still image has no temporal term
    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.iterations = 3  # type: ignore[misc]


def test_a_ray_worker_gets_plain_settings_and_chooses_its_own_device():
    run = resolve_run(Config(device="auto"), here=False)
    assert run.engine.device is None and run.engine.dtype is None  # left to the worker's machine
    shipped = pickle.loads(pickle.dumps(run))
    assert shipped == run
    here = on_this_machine(shipped.engine)
    assert here.device is not None and here.device.type in ("cpu", "cuda", "mps")
    assert on_this_machine(here) is here  # chosen once


def test_the_public_constructor_and_the_engine_constructor_agree(weights_path):
    """vidstyle.build_stylizer(config) is compose's resolve + the engine's one constructor."""
    content, style = smooth_image(24, 24, seed=1), smooth_image(24, 24, seed=2)
    config = cfg(weights_path)
    a = build_stylizer(config, style).stylize(content).image
    settings = resolve_engine(config)
    assert isinstance(settings, EngineSettings)
    b = make_stylizer(settings, [style]).stylize(content).image
    assert np.array_equal(a, b)


class Recorder(FrameEvents):
    def __init__(self, wants_passes: bool) -> None:
        self.wants_passes = wants_passes
        self.started: list[int] = []
        self.passes: list[int] = []

    def frame_started(self, iterations: int) -> None:
        self.started.append(iterations)

    def pass_done(self, iteration: int, losses: dict[str, float]) -> None:
        self.passes.append(iteration)


def test_the_frame_loop_reports_to_the_watchers_it_is_given(weights_path):
    config = cfg(weights_path, temporal="warm", iterations=2, first_iterations=3)
    run = resolve_run(config)
    stylizer = make_stylizer(run.engine, [smooth_image(24, 24, seed=2)])
    frames = [smooth_image(24, 24, seed=s) for s in (3, 4)]
    loud, quiet = Recorder(True), Recorder(False)
    list(stylize_frames(frames, stylizer, run.temporal, events=Watchers(loud, quiet)))
    assert loud.started == quiet.started == [3, 2]  # first frame: --first-iterations
    assert len(loud.passes) >= 5 and not quiet.passes  # passes only to a watcher that wants them


def test_watchers_pass_finished_frames_on_in_order():
    seen: list[str] = []

    class Named(FrameEvents):
        def __init__(self, name: str) -> None:
            self.name = name

        def frame_finished(self, update: FrameUpdate) -> None:
            seen.append(f"{self.name}{update.index}")

    with Watchers(Named("bar"), None, Named("callback")) as w:
        w.frame_finished(FrameUpdate(0, 2, 1, 2, {}, 0.1))
    assert seen == ["bar0", "callback0"]


class CopyRunner:
    """A frame runner elsewhere (like Ray's): copies the input frames and records the settings it was given."""

    def __init__(self) -> None:
        self.given: list[object] = []

    def settings(self) -> dict[str, object]:
        return {"copy": True}

    def run(self, source, styles, work, run, progress):  # noqa: ANN001 - the FrameRunner protocol
        self.given.append(run)
        count = 0
        for i, frame in enumerate(source.stream()):
            work.save(i, frame, {"iterations": 0, "losses": {}, "seconds": 0.0})
            count += 1
        return RunOutcome(count, count, "elsewhere")


def test_a_runner_elsewhere_gets_settings_and_the_driver_chooses_no_device(tmp_path, weights_path):
    """--device cuda on a machine without one: the frames are computed elsewhere, so the driver neither
    chooses nor refuses a device; the runner gets the resolved settings, never the Config."""
    clip = make_clip(tmp_path / "clip.mp4", frames=3)
    style = tmp_path / "style.png"
    write_image(style, smooth_image(24, 24, seed=2))
    runner = CopyRunner()
    config = cfg(weights_path, device="cuda", loss_units="paper")
    report = stylize_video(clip, style, tmp_path / "out", config, runner=runner)
    (run,) = runner.given
    assert run.engine.device is None and run.engine.device_request == "cuda"
    assert run.temporal.weight == TEMPORAL_WEIGHTS["paper"]  # gamma resolved once, for the run's units
    assert report["totals"]["frames"] == 3 and report["settings"]["device"] == "cuda"


def test_one_gpu_of_several_is_chosen_by_index(monkeypatch):
    """``--device cuda:N`` parses and reaches the device choice, which names what this machine has; a CUDA
    device always carries its index, so it equals the device its tensors report (``cuda:0`` != ``cuda``)."""
    import torch

    from vidstyle import Config, VidstyleError
    from vidstyle.compose import select_device

    assert Config(device="cuda:1").device == "cuda:1"
    for bad in ("cuda:", "cuda:x", "cuda:-1", "gpu"):
        with pytest.raises(VidstyleError, match="cuda:N"):
            Config(device=bad)
    with pytest.raises(VidstyleError, match="--device cuda:1 requested but no CUDA GPU"):
        select_device("cuda:1")  # this machine (the suite runs on CPUs)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)  # restored after
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    with pytest.raises(VidstyleError, match="this machine has 1 CUDA GPU .cuda:0."):
        select_device("cuda:1")
    assert select_device("cuda") == torch.device("cuda", 0) == torch.device("cuda:0")
