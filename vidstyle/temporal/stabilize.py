"""Flow mode on camera-like footage: still regions stay exactly still and their sensor noise is averaged.

Sensor noise makes the content target differ a little every frame, and a still camera's noise-sized optical
flow makes a bilinear warp resample (blur) the previous stylized frame every frame; the optimiser then redraws
the texture (shimmer) while the strokes wash out (fade). Where nothing moved (``Motion.still``: short flow and
the *unwarped* frames agree, shots.still_pixels) ``ShotFollower`` copies the previous stylized frame exactly
(no resampling), weights the temporal term ``STILL_BOOST`` times more there, and gives the optimiser a running
mean of the content over the still pixels instead of this frame's noise. Moving pixels are warped bilinearly as
in Ruder et al. Measurements (and the variants that lost): README, "Temporal coherence".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .flow import warp
from .shots import Motion

STILL_BOOST = 4.0  # the temporal term's weight on still pixels, relative to other reliable pixels
CONTENT_MEMORY = 0.8  # running mean of the content on still pixels: weight of the past


@dataclass
class Followed:
    """Frame t's start from frame t-1, as ``ShotFollower.follow`` makes it (all on frame t's grid)."""

    warped: np.ndarray  # the previous stylized frame: copied where still, warped bilinearly elsewhere (uint8)
    weight: np.ndarray  # HxW float32: per-pixel temporal weight (0 unreliable, 1 reliable, STILL_BOOST still)
    content: np.ndarray  # the content frame to optimise against (uint8 HxWx3; averaged where still)
    still: np.ndarray  # HxW bool: pixels judged still


class ShotFollower:
    """Carries the running mean of the still pixels' content from frame to frame within a shot."""

    def __init__(self) -> None:
        self._content: np.ndarray | None = None  # HxWx3 float32 running mean of the content

    def reset(self) -> None:
        """Forget the shot (a cut, or the first frame)."""
        self._content = None

    def follow(self, prev_output: np.ndarray, frame: np.ndarray, motion: Motion) -> Followed:
        """Move stylized frame t-1 into frame t along ``motion`` (backward flow, Ruder's mask, still pixels)."""
        still = motion.still
        warped = np.where(still[..., None], prev_output, warp(prev_output, motion.flow))
        current = frame.astype(np.float32)
        if self._content is not None:  # same size: the planner refuses a size change within a run
            blend = CONTENT_MEMORY * self._content + (1 - CONTENT_MEMORY) * current
            current = np.where(still[..., None], blend, current)
        self._content = current
        content = np.clip(np.rint(current), 0, 255).astype(np.uint8)
        weight = np.where(still, STILL_BOOST, motion.mask > 0).astype(np.float32)
        return Followed(warped, weight, content, still)
