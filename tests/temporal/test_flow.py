"""The device warp (flow.warp_tensor) against cv2.remap, the host warp it replaces in flow mode's start."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vidstyle.engine.tensors import to_image, to_tensor
from vidstyle.errors import VidstyleError
from vidstyle.temporal.flow import FLOW_PRESETS, FlowEstimator, warp, warp_tensor


def test_device_warp_is_cv2_remap_within_one_level_on_a_subpixel_shift() -> None:
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8), (0, 0), 1.2)
    flow = np.zeros((40, 56, 2), np.float32)
    flow[..., 0], flow[..., 1] = 0.37, -1.61  # sub-pixel in x, more than a pixel in y
    flow[:, 20:, 0] += np.linspace(0.0, 0.9, 36, dtype=np.float32)  # and varying across the frame
    expected = warp(image, flow)
    got = to_image(warp_tensor(to_tensor(image, "cpu"), torch.from_numpy(flow)))
    inner = np.s_[3:-3, 3:-3]
    assert np.abs(got[inner].astype(int) - expected[inner]).max() <= 1
    assert np.abs(got.astype(int) - expected).max() <= 1  # border replicated the same way
    assert np.abs(got[inner].astype(int) - image[inner]).mean() > 5  # it moved: not the identity


@pytest.mark.parametrize("quality", sorted(FLOW_PRESETS))
def test_frames_too_small_for_dis_get_a_vidstyle_error_not_an_opencv_assertion(quality: str) -> None:
    """DIS asserts below 8 px on the short side or 12 on the long one; the estimator says so in one line."""
    estimator = FlowEstimator(quality)
    rng = np.random.default_rng(1)
    for h, w in ((8, 12), (12, 8), (8, 40)):  # the smallest it takes
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert estimator(frame, frame).shape == (h, w, 2)
    for h, w in ((7, 40), (40, 7), (8, 11), (11, 11)):
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        with pytest.raises(VidstyleError, match=f"{w}x{h} pixels are too small for optical flow"):
            estimator(frame, frame)
