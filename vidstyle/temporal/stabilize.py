"""Keeping a shot's look sharp and its still parts still in flow mode (camera-like footage).

Two effects of following the previous stylized frame along the optical flow, measured by
benchmarks/bench_stability.py on camera-like clips:

* **Fade.** Warping at a fractional offset resamples: at half a pixel every interpolator (bilinear, bicubic,
  Lanczos) passes no energy at the pixel grid's highest frequency, and the loss compounds frame after frame,
  so the brush strokes wash out over a moving shot. ``ShotFollower`` therefore moves the previous frame by
  *whole* pixels only (an exact copy) and carries the sub-pixel rest of the motion over to the next frame,
  where it adds up with the new flow: the texture moves in pixel steps that follow the true motion to within
  half a pixel, and is never resampled.
* **Shimmer.** Sensor noise makes the content target differ a little every frame, and the optimiser redraws
  the texture to follow it. Where nothing moved (the flow is under ``STILL_PX`` and
  the unwarped frames agree photometrically) the follower keeps the texture where it was (no shift, no
  carried rest), weights the temporal term ``STILL_BOOST`` times more there, and gives the optimiser a
  temporally averaged content frame (a running mean over the still pixels) instead of this frame's noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .flow import in_frame_mask, to_gray, warp

STILL_PX = 0.3  # flow shorter than this (px at the processing size) may be sensor noise, not motion
STILL_TOLERANCE = 4.0  # gray levels: blurred |frame_t - frame_t-1| under this means "unchanged"
STILL_BOOST = 4.0  # the temporal term's weight on still pixels, relative to other reliable pixels
# 1: moving pixels are moved by whole pixels too (the rest carried). Measured with bench_stability.py it keeps
# the look (0.86-0.91 of style kept) but a subject or a pan misplaced by up to half a pixel costs 2.3-7x the
# input's warping error; 0 (bilinear where things move, exact copies where still) keeps 0.81-0.83 at 1.0-2.3x.
WHOLE_PIXELS = 0
CONTENT_MEMORY = 0.8  # running mean of the content on still pixels: weight of the past


@dataclass
class Followed:
    """Frame t's start from frame t-1, as ``ShotFollower.follow`` makes it (all on frame t's grid)."""

    warped: np.ndarray  # the previous stylized frame moved by whole pixels (uint8 HxWx3)
    weight: np.ndarray  # HxW float32: per-pixel temporal weight (0 unreliable, 1 reliable, more when still)
    content: np.ndarray  # the content frame to optimise against (uint8 HxWx3; averaged where still)
    still: np.ndarray  # HxW bool: pixels judged still


def whole_pixel_warp(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``out(x) = image(x + shift(x))`` for integer-valued ``shift``: an exact copy, no interpolation."""
    h, w = shift.shape[:2]
    xs = np.clip(np.arange(w, dtype=np.float32)[None, :] + shift[..., 0], 0, w - 1)
    ys = np.clip(np.arange(h, dtype=np.float32)[:, None] + shift[..., 1], 0, h - 1)
    out = cv2.remap(np.ascontiguousarray(image), xs, ys, interpolation=cv2.INTER_NEAREST)
    return out.reshape(image.shape)


def still_pixels(prev: np.ndarray, cur: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Pixels where nothing moved: short flow and the *unwarped* frames agree (blurred gray).

    Ruder's mask is not asked: its motion-boundary test fires on the noise-sized flow of a still camera's
    sensor noise (its gradient is all there is), and those pixels would be redrawn from scratch every frame.
    """
    a = cv2.GaussianBlur(to_gray(prev).astype(np.float32), (5, 5), 0)
    b = cv2.GaussianBlur(to_gray(cur).astype(np.float32), (5, 5), 0)
    short = np.hypot(flow[..., 0], flow[..., 1]) < STILL_PX
    return short & (np.abs(a - b) <= STILL_TOLERANCE)


class ShotFollower:
    """Carries the sub-pixel rest of the motion and the still-region content mean from frame to frame."""

    def __init__(self) -> None:
        self._rest: np.ndarray | None = None  # HxWx2: motion not yet applied (|rest| <= 0.5 px)
        self._content: np.ndarray | None = None  # HxWx3 float32 running mean of the content

    def reset(self) -> None:
        """Forget the shot (a cut, or the first frame)."""
        self._rest, self._content = None, None

    def follow(self, prev_output: np.ndarray, prev_frame: np.ndarray, frame: np.ndarray, flow: np.ndarray,
               mask: np.ndarray) -> Followed:
        """Move stylized frame t-1 into frame t along backward ``flow`` (t -> t-1) with Ruder's ``mask``."""
        still = still_pixels(prev_frame, frame, flow)
        reliable = (mask > 0) | still
        total = flow.copy()
        if self._rest is not None and self._rest.shape == flow.shape:
            total += warp(self._rest, flow) * reliable[..., None]
        total[still] = 0.0  # noise-sized flow on an unchanged image: keep the texture exactly where it was
        shift = np.rint(total)
        self._rest = (total - shift).astype(np.float32)
        warped = whole_pixel_warp(prev_output, shift)
        if not WHOLE_PIXELS:
            warped = np.where(still[..., None], warped, warp(prev_output, flow))
        current = frame.astype(np.float32)
        if self._content is not None and self._content.shape == current.shape:
            past = whole_pixel_warp(self._content, shift)
            blend = CONTENT_MEMORY * past + (1 - CONTENT_MEMORY) * current
            current = np.where(still[..., None], blend, current)
        self._content = current
        content = np.clip(np.rint(current), 0, 255).astype(np.uint8)
        weight = np.where(still, STILL_BOOST, reliable * in_frame_mask(shift)).astype(np.float32)
        return Followed(warped, weight, content, still)
