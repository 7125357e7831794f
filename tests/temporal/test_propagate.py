"""--temporal flow in the video pipeline: init from the warped previous output, temporal loss, shot changes."""
from __future__ import annotations

from pathlib import Path

import cv2

import numpy as np
import pytest
import torch
from samples.motion_clips import motion_frames, read_frames, two_shot_frames, write_frames

from vidstyle import Config, stylize_video
from vidstyle.engine.tensors import to_image
from vidstyle.errors import VidstyleError
from vidstyle.io.images import read_image
from vidstyle.metrics.warping import warping_error
from vidstyle.temporal import analyze_motion, warp
from vidstyle.temporal.propagate import TemporalPlanner

W, H = 64, 48


@pytest.fixture(scope="module")
def scene(tubingen: Path) -> np.ndarray:
    return read_image(tubingen)


@pytest.fixture(scope="module")
def other_scene() -> np.ndarray:
    from tests.helpers import MEDIA

    return read_image(MEDIA / "shipwreck.jpg")


def cfg(weights: Path, **kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(weights), size=None, iterations=6, first_iterations=12,
                                   quiet=True, seed=0, device="cpu")
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


def test_planner_first_frame_and_modes(scene: np.ndarray) -> None:
    f0, f1 = motion_frames("pan", scene, frames=2, width=W, height=H)
    out0 = np.full_like(f0, 200)
    for mode in ("none", "warm", "flow"):
        first = TemporalPlanner(mode, iterations=5, first_iterations=9).start(f0, None, None)
        assert first.init is None and first.iterations == 9 and not first.terms
    none = TemporalPlanner("none", iterations=5, first_iterations=9).start(f1, f0, out0)
    assert none.init is None and none.iterations == 5
    warm = TemporalPlanner("warm", iterations=5, first_iterations=9).start(f1, f0, out0)
    assert warm.init is out0 and warm.iterations == 5


def test_flow_init_is_warped_output_plus_the_inputs_change_everywhere(scene: np.ndarray) -> None:
    """Stylized frame t-1 moved into frame t plus the input's own change (frame t - input t-1 moved the same
    way): on reliable pixels and on the band the pan uncovers too, which so starts painted, not from the photo."""
    f0, f1 = motion_frames("pan", scene, frames=2, width=W, height=H)
    rng = np.random.default_rng(0)
    # a smooth texture: OpenCV 4's remap quantises the sampling position to 1/32 px, levels apart on white noise
    out0 = cv2.GaussianBlur(rng.integers(0, 256, f0.shape, dtype=np.uint8), (0, 0), 1)
    start = TemporalPlanner("flow", iterations=5, first_iterations=9, weight=1e11).start(f1, f0, out0)
    motion = analyze_motion(f0, f1, "medium")
    inside = motion.mask > 0
    assert 0.5 < inside.mean() < 1  # the pan uncovers a band on the right
    change = f1.astype(np.float32) - warp(f0.astype(np.float32), motion.flow)
    expected = np.clip(np.rint(warp(out0, motion.flow) + change), 0, 255).astype(np.uint8)
    init = to_image(start.init)  # on the device; the device warp is cv2.remap's within its 1/32 px sampling
    assert np.abs(init.astype(int) - expected).max() <= 2 and np.abs(init.astype(int) - expected).mean() < 0.3
    outside = ~inside
    assert np.abs(init[outside].astype(float) - f1[outside]).mean() > 30  # not the photo: the texture
    assert start.iterations == 5 and len(start.terms) == 1 and not start.shot_change and not start.cold
    no_loss = TemporalPlanner("flow", iterations=5, first_iterations=9, weight=0).start(f1, f0, out0)
    assert no_loss.terms == []


@pytest.mark.slow
def test_flow_lowers_warping_error_on_panning_clip(tmp_path: Path, weights_path: Path, starry_night: Path,
                                                  scene: np.ndarray) -> None:
    clip = write_frames(tmp_path / "pan", motion_frames("pan", scene, frames=4, width=W, height=H))
    errors = {}
    for mode in ("none", "warm", "flow"):
        out = tmp_path / mode
        report = stylize_video(clip, starry_night, out, cfg(weights_path, temporal=mode))
        errors[mode] = warping_error(read_frames(out), read_frames(clip), quality="fine").mean
        if mode == "flow":
            assert all(0.5 < f["reliable"] <= 1 and not f["shot_change"] for f in report["frames"][1:])
    assert errors["flow"] < 0.5 * errors["none"]
    assert errors["flow"] < 0.5 * errors["warm"]


@pytest.mark.slow
def test_shot_change_cold_starts_with_first_frame_iterations(tmp_path: Path, weights_path: Path,
                                                             starry_night: Path, scene: np.ndarray,
                                                             other_scene: np.ndarray) -> None:
    frames = two_shot_frames(scene, other_scene, first=3, second=2, width=W, height=H)
    clip = write_frames(tmp_path / "two", frames)
    report = stylize_video(clip, starry_night, tmp_path / "out", cfg(weights_path, temporal="flow"))
    shots = [bool(f.get("shot_change")) for f in report["frames"]]
    assert shots == [False, False, False, True, False]
    passes = [f["iterations"] for f in report["frames"]]
    assert passes[0] == passes[3] == 12  # cold starts: --first-iterations
    assert all(6 <= passes[i] <= 9 for i in (1, 2, 4))  # --iterations, or the budget's 1.5x at most
    # the cut frame is exactly what a fresh run starting at the second shot makes of its first frame
    second = write_frames(tmp_path / "second", frames[3:])
    stylize_video(second, starry_night, tmp_path / "fresh", cfg(weights_path, temporal="flow"))
    assert np.array_equal(read_frames(tmp_path / "out")[3], read_frames(tmp_path / "fresh")[0])


def test_config_rejects_bad_temporal_settings(weights_path: Path) -> None:
    with pytest.raises(VidstyleError, match="temporal"):
        cfg(weights_path, temporal="optical")
    with pytest.raises(VidstyleError, match="temporal-weight"):
        cfg(weights_path, temporal_weight=-1.0)
    with pytest.raises(VidstyleError, match="flow-quality"):
        cfg(weights_path, flow_quality="ultra")


def test_prefetched_motion_is_used_only_for_its_own_pair(scene: np.ndarray) -> None:
    f0, f1, f2 = motion_frames("pan", scene, frames=3, width=W, height=H)
    out0 = np.full_like(f0, 128)
    with TemporalPlanner("flow", iterations=5, first_iterations=9, weight=1e11) as planner:
        planner.prefetch(f0, f1)
        pending = planner._pending[2]
        a = planner.start(f1, f0, out0)
        assert pending.done() and planner._pending is None  # consumed
        planner.prefetch(f1, f2)
        b = planner.start(f1, f0, out0)  # a different pair: analysed afresh, the prefetch is dropped
        assert torch.equal(a.init, b.init) and a.reliable == b.reliable
    assert planner._pool is None


def test_a_flow_frame_uploads_only_the_frames_and_the_motion(scene: np.ndarray, weights_path: Path,
                                                             starry_night: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With stylized frame t-1 on the device, flow mode's start and the engine's optimisation of frame t upload
    the input frames and the motion analysis (flow, Ruder's mask), nothing else:
    the init and the temporal target are made on the device."""
    from vidstyle import build_stylizer
    from vidstyle.engine.tensors import to_tensor

    f0, f1 = motion_frames("pan", scene, frames=2, width=W, height=H)
    out0 = np.random.default_rng(0).integers(0, 256, f0.shape, dtype=np.uint8)
    stylizer = build_stylizer(cfg(weights_path, optimizer="adam", iterations=2), read_image(starry_night), video=True)
    first = stylizer.stylize(f0, iterations=1)  # frame 0 (also makes the style targets at this size)
    uploads: list[np.ndarray] = []
    original = torch.from_numpy

    def spy(array: np.ndarray) -> torch.Tensor:
        uploads.append(array)
        return original(array)
    monkeypatch.setattr(torch, "from_numpy", spy)

    with TemporalPlanner("flow", iterations=2, first_iterations=2, weight=1e3) as planner:
        planner.start(f1, f0, out0)  # the spy sees it: a host output is uploaded
        assert any(a is out0 for a in uploads)
        previous = first.pixels  # the delivered frame 0, kept on the device
        assert previous is not None and torch.equal(previous, to_tensor(first.image, "cpu"))
        uploads.clear()
        start = planner.start(f1, f0, previous)
        assert isinstance(start.init, torch.Tensor) and all(isinstance(a, torch.Tensor) for a in start.terms[0].frame)
        result = stylizer.stylize(f1, init=start.init, iterations=2, terms=start.terms)
    images = [a for a in uploads if a.ndim == 3 and a.shape[2] == 3]
    assert images and all(a is f1 or a is f0 for a in images)
    others = sorted((a.shape, str(a.dtype)) for a in uploads if not (a.ndim == 3 and a.shape[2] == 3))
    assert others == sorted([((H, W, 2), "float32"), ((H, W), "float32")])
    assert result.pixels is not None and np.array_equal(to_image(result.pixels), result.image)
