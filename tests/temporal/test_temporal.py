"""Flow, warping, occlusion mask, shot changes, warping error and temporal loss (vidstyle.temporal)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.helpers import smooth_image

from vidstyle.errors import VidstyleError
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.metrics.warping import warping_error
from vidstyle.temporal import (
    FlowEstimator,
    analyze_motion,
    occlusion_mask,
    warp,
)


@pytest.fixture(scope="module")
def scene(tubingen) -> np.ndarray:
    """A real photograph large enough to cut shifted 128x96 crops from."""
    return resize_long_side(read_image(tubingen), 280)


def crop(img: np.ndarray, dx: int, dy: int, w: int = 128, h: int = 96) -> np.ndarray:
    """The window at (20+dx, 20+dy): increasing dx pans the camera right (content moves left)."""
    return img[20 + dy:20 + dy + h, 20 + dx:20 + dx + w]


def const_flow(h: int, w: int, dx: float, dy: float) -> np.ndarray:
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_shifted_image_warps_back_exactly_inside_mask() -> None:
    big = smooth_image(80, 100, seed=1)
    prev, cur = big[:64, :80], big[2:66, 3:83]  # cur(x) = prev(x + (3, 2))
    bwd, fwd = const_flow(64, 80, 3, 2), const_flow(64, 80, -3, -2)
    mask = occlusion_mask(fwd, bwd)
    warped = warp(prev, bwd)
    inside = mask > 0
    assert inside.sum() == (64 - 2) * (80 - 3)
    assert np.array_equal(warped[inside], cur[inside])
    assert not np.array_equal(prev[inside], cur[inside])  # the warp did something


def test_mask_marks_uncovered_band_exact_flow() -> None:
    mask = occlusion_mask(const_flow(40, 50, -4, 0), const_flow(40, 50, 4, 0))
    assert np.all(mask[:, -4:] == 0)  # new content entering on the right
    assert np.all(mask[:, :-4] == 1)


def test_mask_marks_disocclusion_behind_moving_object() -> None:
    h, w = 40, 60
    bwd, fwd = np.zeros((h, w, 2), np.float32), np.zeros((h, w, 2), np.float32)
    bwd[10:30, 25:35, 0] = -5  # square now at columns 25..34 came from 20..29
    fwd[10:30, 20:30, 0] = 5
    mask = occlusion_mask(fwd, bwd)
    assert np.all(mask[12:28, 21:24] == 0)  # background uncovered where the square was
    assert np.all(mask[12:28, 27:33] == 1)  # inside the square: consistent
    assert np.all(mask[:, 45:] == 1) and np.all(mask[:5] == 1)  # static background far away
    assert mask[12:28, 24:26].max() == 0  # motion boundary at the square's left edge


def test_dis_mask_marks_uncovered_band_of_shifted_frame(scene) -> None:
    prev, cur = crop(scene, 0, 0), crop(scene, 6, 0)
    m = analyze_motion(prev, cur, "medium").mask
    assert m[:, -6:].mean() < 0.2
    assert m[8:-8, 8:-14].mean() > 0.9


@pytest.mark.parametrize("quality", ["fast", "medium", "fine"])
def test_flow_recovers_synthetic_pan(scene, quality: str) -> None:
    prev, cur = crop(scene, 0, 0), crop(scene, 4, 2)
    flow = FlowEstimator(quality)(cur, prev)  # backward: cur(x) ~ prev(x + (4, 2))
    assert flow.shape == (96, 128, 2) and flow.dtype == np.float32
    inner = flow[10:-10, 10:-10]
    assert np.median(inner[..., 0]) == pytest.approx(4, abs=0.3)
    assert np.median(inner[..., 1]) == pytest.approx(2, abs=0.3)
    mask = analyze_motion(prev, cur, FlowEstimator(quality)).mask
    err = np.abs(warp(prev, flow).astype(float) - cur)
    assert (mask[..., None] * err).mean() < 0.1 * np.abs(prev.astype(float) - cur).mean()


def test_bad_inputs_raise() -> None:
    with pytest.raises(VidstyleError):
        warp(np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 2), np.float32))


def is_shot_change(prev: np.ndarray, cur: np.ndarray) -> bool:
    return analyze_motion(prev, cur, "medium").shot_change


def test_shot_change_unrelated_vs_consecutive(scene, starry_night) -> None:
    other = cv2.resize(read_image(starry_night), (128, 96), interpolation=cv2.INTER_AREA)
    assert is_shot_change(crop(scene, 0, 0), other)
    assert is_shot_change(crop(scene, 0, 0), crop(scene, 100, 40))  # a cut inside the same photograph
    assert not is_shot_change(crop(scene, 0, 0), crop(scene, 2, 1))
    assert not is_shot_change(crop(scene, 0, 0), crop(scene, 0, 0))


def pan_clip(scene: np.ndarray, n: int = 5) -> list[np.ndarray]:
    return [crop(scene, 3 * i, i) for i in range(n)]


def test_warping_error_zero_for_perfectly_warped_sequence(scene) -> None:
    ref = pan_clip(scene)
    est = FlowEstimator("medium")
    rng = np.random.default_rng(0)
    out = [rng.random((96, 128, 3), dtype=np.float32)]
    for t in range(1, len(ref)):
        out.append(warp(out[-1], analyze_motion(ref[t - 1], ref[t], est).flow))
    res = warping_error(out, ref, quality="medium")
    assert res.frames == 5 and len(res.per_frame) == 4 and res.shot_changes == []
    assert res.mean < 1e-10
    assert 0 < res.reference_mean < 1e-3  # the input's own error: small, not zero (flow is estimated)


def test_warping_error_positive_for_independent_noise(scene) -> None:
    ref = pan_clip(scene)
    rng = np.random.default_rng(1)
    noise = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in ref]
    res = warping_error(noise, ref)
    assert res.mean > 0.05  # ~2 * var(U(0,1)) = 1/6 on reliable pixels
    assert res.mean > 100 * res.reference_mean
    assert res.as_dict()["ratio_to_reference"] > 100


def test_warping_error_skips_cuts_and_checks_counts(scene, starry_night) -> None:
    other = cv2.resize(read_image(starry_night), (128, 96), interpolation=cv2.INTER_AREA)
    ref = [crop(scene, 0, 0), crop(scene, 2, 0), other, other]
    res = warping_error(ref, ref)
    assert res.shot_changes == [2]
    with pytest.raises(VidstyleError, match="frame counts differ"):
        warping_error(ref[:3], ref)
    with pytest.raises(VidstyleError, match="at least two"):
        warping_error(ref[:1], ref[:1])


def test_warping_error_resizes_reference(scene) -> None:
    ref = pan_clip(scene, 3)
    big_ref = [resize_long_side(f, 256) for f in ref]
    assert warping_error(ref, big_ref).reference_mean < 1e-3


