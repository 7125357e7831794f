"""Flow mode on camera-like motion: whole-pixel following keeps the texture sharp, still regions stay put."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.realistic_clips import realistic_frames

from vidstyle.io.images import read_image
from vidstyle.temporal import warp
from vidstyle.temporal.propagate import TemporalPlanner
from vidstyle.temporal import stabilize
from vidstyle.temporal.stabilize import ShotFollower, whole_pixel_warp

W, H = 96, 64


def detail(image: np.ndarray) -> float:
    """High-frequency energy: mean squared Laplacian of the gray image."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.mean(cv2.Laplacian(gray, cv2.CV_32F) ** 2))


def test_slow_motion_moves_the_texture_by_whole_pixels_without_blurring_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stabilize, "WHOLE_PIXELS", 1)  # the option benchmarks/stability_candidates.py measures
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = -0.35  # the scene moves right by 0.35 px a frame
    frames = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(13)]  # "something changes"
    mask = np.ones((H, W), np.float32)
    follower, followed, resampled = ShotFollower(), texture, texture
    for t in range(1, 13):
        step = follower.follow(followed, frames[t - 1], frames[t], flow, mask)
        assert not step.still.any()
        followed, resampled = step.warped, warp(resampled, flow)
    # 12 x 0.35 = 4.2 px: an exact copy moved by 4 whole pixels (the 0.2 px rest is carried, not lost)
    assert np.array_equal(followed[:, 8:], texture[:, 4:-4])
    assert detail(followed[:, 8:]) > 0.99 * detail(texture[:, 4:-4])
    assert detail(resampled[:, 8:]) < 0.5 * detail(texture[:, 4:-4])  # what the bilinear chain did


def test_whole_pixel_warp_is_an_exact_copy() -> None:
    image = np.arange(H * W * 3, dtype=np.uint16).reshape(H, W, 3).astype(np.float32)
    shift = np.zeros((H, W, 2), np.float32)
    shift[..., 1] = 2.0
    assert np.array_equal(whole_pixel_warp(image, shift)[:-2], image[2:])


def test_still_camera_keeps_the_background_exactly_and_averages_its_noise(tubingen: Path) -> None:
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA)
              for f in realistic_frames("still", read_image(tubingen), frames=8, width=4 * W, height=4 * H)]
    rng = np.random.default_rng(1)
    output = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)  # a stylized-looking texture
    planner = TemporalPlanner("flow", iterations=4, first_iterations=8, weight=100.0)
    contents, stills = [], []
    for t in range(1, len(frames)):
        start = planner.start(frames[t], frames[t - 1], output)
        assert start.terms and start.content is not None and start.still is not None
        stills.append(start.still)
        contents.append(start.content.astype(np.float32))
        # the background right of the subject never moves: kept as it was, no resampling at all
        assert np.array_equal(start.init[:, -W // 4:], output[:, -W // 4:])
    planner.close()
    assert min(stills) > 0.5
    background = np.s_[:, -W // 4:]
    noise_in = np.std(np.stack([f[background].astype(np.float32) for f in frames[1:]]), axis=0).mean()
    noise_used = np.std(np.stack([c[background] for c in contents]), axis=0).mean()
    assert noise_used < 0.6 * noise_in
