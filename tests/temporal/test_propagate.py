"""--temporal flow in the video pipeline: init from the warped previous output, temporal loss, shot changes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from samples.motion_clips import motion_frames, read_frames, two_shot_frames, write_frames

from vidstyle import Config, stylize_video
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


def test_flow_init_is_warped_output_inside_mask_content_outside(scene: np.ndarray) -> None:
    f0, f1 = motion_frames("pan", scene, frames=2, width=W, height=H)
    rng = np.random.default_rng(0)
    out0 = rng.integers(0, 256, f0.shape, dtype=np.uint8)
    start = TemporalPlanner("flow", iterations=5, first_iterations=9, weight=1e11).start(f1, f0, out0)
    motion = analyze_motion(f0, f1, "medium")
    inside = motion.mask > 0
    assert 0.5 < inside.mean() < 1  # the pan uncovers a band on the right
    assert np.array_equal(start.init[inside], warp(out0, motion.flow)[inside])
    assert np.array_equal(start.init[~inside], f1[~inside])
    assert start.still == 0  # a 2.5 px pan: nothing is still
    assert start.iterations == 5 and len(start.terms) == 1 and not start.shot_change
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
    assert [f["iterations"] for f in report["frames"]] == [12, 6, 6, 12, 6]
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
        assert np.array_equal(a.init, b.init) and a.reliable == b.reliable
    assert planner._pool is None
