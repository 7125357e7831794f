"""Flow mode's carry-over: stylized frame t-1 moved along the flow, Ruder's mask as the weight, painted start."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from samples.realistic_clips import realistic_frames

from vidstyle.engine.tensors import to_image, to_tensor
from vidstyle.io.images import read_image
from vidstyle.temporal import warp
from vidstyle.temporal.follow import follow, levels
from vidstyle.temporal.shots import Motion, analyze_motion

W, H = 96, 64


def motion(flow: np.ndarray, mask: np.ndarray) -> Motion:
    return Motion(flow=flow, mask=mask, matched=1.0, shot_change=False)


def texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 2)


def test_moving_pixels_follow_the_flow_and_keep_ruders_mask() -> None:
    prev = texture(0)
    cur = np.roll(prev, 2, axis=1)  # the scene moves right by 2 px
    output = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)  # a stylized-looking texture
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = -2.0
    mask = np.ones((H, W), np.float32)
    mask[:, :2] = 0  # uncovered on the left
    f = follow(output, levels(cur, "cpu"), levels(prev, "cpu"), motion(flow, mask))
    inner = np.s_[:, 4:-4]
    assert np.array_equal(to_image(f.warped)[inner], output[:, 2:-6])
    assert np.array_equal(f.weight.numpy(), mask)
    # the scene moved exactly with the flow: no change to add, the start is the moved output
    assert np.array_equal(to_image(f.init)[inner], output[:, 2:-6])


def test_the_inputs_change_since_frame_t_minus_1_is_added_to_the_start() -> None:
    """A scene that brightens by 6 gray levels with no motion: the start image is the previous output plus 6
    everywhere (where it does not clip), unreliable pixels included; the temporal target is the output itself."""
    base = texture(2).astype(np.int16) // 2 + 40
    prev, cur = base.astype(np.uint8), (base + 6).astype(np.uint8)
    output = np.random.default_rng(3).integers(20, 200, (H, W, 3), dtype=np.uint8)
    mask = np.ones((H, W), np.float32)
    mask[: H // 2] = 0
    f = follow(output, levels(cur, "cpu"), levels(prev, "cpu"), motion(np.zeros((H, W, 2), np.float32), mask))
    assert np.array_equal(to_image(f.warped), output)  # a zero flow resamples nothing
    assert np.array_equal(to_image(f.init).astype(int), output.astype(int) + 6)
    assert np.array_equal(f.weight.numpy(), mask)


def test_a_noise_sized_flow_resamples_bilinearly_like_cv2() -> None:
    """No pixel is held still: a sub-pixel flow moves the output as cv2.remap does (within one level on a
    smooth texture: OpenCV 4 quantises the sampling position to 1/32 px)."""
    rng = np.random.default_rng(4)
    frame, output = texture(5), texture(6)
    flow = rng.uniform(-0.2, 0.2, (H, W, 2)).astype(np.float32)
    f = follow(output, levels(frame, "cpu"), levels(frame, "cpu"), motion(flow, np.ones((H, W), np.float32)))
    got = to_image(f.warped).astype(int)
    assert np.abs(got - warp(output, flow).astype(int)).max() <= 1
    assert not np.array_equal(got, output)


def _numpy_follow(prev_output: np.ndarray, frame: np.ndarray, prev_frame: np.ndarray,
                  m: Motion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The follow step on the host (cv2.remap, NumPy), the reference: (warped, init, weight)."""
    warped = warp(prev_output, m.flow)
    change = frame.astype(np.float32) - warp(prev_frame.astype(np.float32), m.flow)
    init = np.clip(np.rint(warped.astype(np.float32) + change), 0, 255).astype(np.uint8)
    return warped, init, (m.mask > 0).astype(np.float32)


def test_device_follow_matches_the_host_follow_on_a_moving_clip(tubingen: Path) -> None:
    """Stylized frames carried along a small clip (a subject moving over a noisy background) on the device
    equal the host's cv2/NumPy computation within two 8-bit levels, under a third of a level on average."""
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA)
              for f in realistic_frames("handheld", read_image(tubingen), frames=5, width=4 * W, height=4 * H)]
    rng = np.random.default_rng(2)
    for t in range(1, len(frames)):
        strokes = cv2.GaussianBlur(rng.integers(-40, 41, frames[t - 1].shape).astype(np.float32), (0, 0), 1)
        output = np.clip(frames[t - 1] + 3 * strokes, 0, 255).astype(np.uint8)  # a stylized-looking frame t-1
        m = analyze_motion(frames[t - 1], frames[t], "medium")
        f = follow(to_tensor(output, "cpu"), levels(frames[t], "cpu"), levels(frames[t - 1], "cpu"), m)
        warped, init, weight = _numpy_follow(output, frames[t], frames[t - 1], m)
        assert torch.equal(f.weight, torch.from_numpy(weight))
        for got, expected in ((to_image(f.warped), warped), (to_image(f.init), init)):
            # within 2 levels: cv2 (OpenCV 4) samples at 1/32 px, and the init rounds a sum of two warps
            assert np.abs(got.astype(int) - expected).max() <= 2
            assert np.abs(got.astype(int) - expected).mean() < 0.3
        assert np.mean(to_image(f.warped) != output) > 0.2  # the camera moved: the warp was exercised
