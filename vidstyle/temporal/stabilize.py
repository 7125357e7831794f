"""Flow mode on camera-like footage: still regions stay exactly still and their sensor noise is averaged.

Sensor noise makes the content target differ a little every frame, and a still camera's noise-sized optical
flow makes a bilinear warp resample (blur) the previous stylized frame every frame; the optimiser then redraws
the texture (shimmer) while the strokes wash out (fade). Where nothing moved (``Motion.still``: short flow and
the *unwarped* frames agree, shots.still_pixels) ``ShotFollower`` copies the previous stylized frame exactly
(no resampling), weights the temporal term ``STILL_BOOST`` times there, and gives the optimiser a running
mean of the content over the still pixels instead of this frame's noise. Moving pixels are warped bilinearly as
in Ruder et al. Measurements (and the variants that lost): README, "Temporal coherence", and
docs/real-footage.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .flow import to_gray, warp
from .shots import STILL_TOLERANCE, Motion

# The temporal term's weight on still pixels, relative to other reliable pixels. 4 held still regions harder
# on a still camera, but on real footage slow changes (a character walking slowly toward the camera) pass
# the still test frame after frame and the held output drifts off the content (bigbuckbunny.mp4 frames 0-39 at
# 160 px: 0.67 of the content fidelity kept at frame 39 with 4, 0.78 with 1; bikes.mp4 frames 0-15: 4.6x and
# 5.0x the input's warping error, within noise). docs/real-footage.md.
STILL_BOOST = 1.0
CONTENT_MEMORY = 0.8  # running mean of the content on still pixels: weight of the past


@dataclass
class Followed:
    """Frame t's start from frame t-1, as ``ShotFollower.follow`` makes it (all on frame t's grid)."""

    warped: np.ndarray  # the previous stylized frame: copied where still, warped bilinearly elsewhere (uint8)
    weight: np.ndarray  # HxW float32: per-pixel temporal weight (0 unreliable, 1 reliable, STILL_BOOST still)
    content: np.ndarray  # the content frame to optimise against (uint8 HxWx3; averaged where still)
    still: np.ndarray  # HxW bool: pixels judged still
    init: np.ndarray  # the start image: ``warped`` plus the input's change since it was drawn, where not still


def _blurred_gray(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(to_gray(image).astype(np.float32), (5, 5), 0)


class ShotFollower:
    """Carries, within a shot, the content each stylized pixel was drawn for (moved along with it) and the
    running mean of the still pixels' content.

    A pixel is still only while the input stays within STILL_TOLERANCE of what its stylized pixel was drawn for:
    compared frame to frame, a slow change (a character walking slowly toward a still camera, a fade) never
    exceeds the tolerance, so the output was copied unchanged and held while the photo moved on beneath it
    (bigbuckbunny.mp4 at 160 px: 0.59 of the content fidelity left at frame 39; 0.80 with this anchor, the
    painted init and a still weight of 1). Where a pixel is not still, the start
    image gets the input's change since the pixel was drawn added to the moved stylized pixel (painted_init).
    """

    def __init__(self) -> None:
        self._content: np.ndarray | None = None  # HxWx3 float32 running mean of the content
        self._drawn_for: np.ndarray | None = None  # HxWx3 float32: the content each output pixel was made for

    def reset(self) -> None:
        """Forget the shot (a cut, or the first frame)."""
        self._content = self._drawn_for = None

    def follow(self, prev_output: np.ndarray, frame: np.ndarray, motion: Motion,
               prev_frame: np.ndarray | None = None) -> Followed:
        """Move stylized frame t-1 into frame t along ``motion`` (backward flow, Ruder's mask, still pixels).

        ``prev_frame``: input frame t-1, what stylized frame t-1 was drawn for when the follower has not seen
        it (the shot's first frame); default: this frame (no change to add)."""
        current = frame.astype(np.float32)
        drawn = self._drawn_for if self._drawn_for is not None and self._drawn_for.shape == current.shape else (
            prev_frame.astype(np.float32) if prev_frame is not None else current)
        unchanged = np.abs(_blurred_gray(frame) - _blurred_gray(drawn)) <= STILL_TOLERANCE
        still = motion.still & unchanged
        warped = np.where(still[..., None], prev_output, warp(prev_output, motion.flow))
        drawn_here = np.where(still[..., None], drawn, warp(drawn, motion.flow))
        init = painted_init(warped, current - drawn_here, still)
        # still pixels stay drawn for what they were drawn for; the others are drawn for this frame now
        self._drawn_for = np.where(still[..., None], drawn_here, current)
        if self._content is not None and self._content.shape == current.shape:
            blend = CONTENT_MEMORY * self._content + (1 - CONTENT_MEMORY) * current
            current = np.where(still[..., None], blend, current)
        self._content = current
        content = np.clip(np.rint(current), 0, 255).astype(np.uint8)
        weight = np.where(still, STILL_BOOST, motion.mask > 0).astype(np.float32)
        return Followed(warped, weight, content, still, init)


def painted_init(warped: np.ndarray, change: np.ndarray, still: np.ndarray) -> np.ndarray:
    """Frame t's start in flow mode: the stylized pixels moved into frame t plus the input's change since they
    were drawn, on every pixel that is not still.

    The change brings in what the warp cannot: the detail a bilinear resampling blurred away and what newly
    appeared. Pixels Ruder's mask rejects start so too, painted (the strokes that were there, carrying the new
    photo's structure), not from the photo, which a few passes never paint to the shot's first frame's level.
    Still pixels keep stylized frame t-1 exactly.
    """
    change = np.where(still[..., None], 0.0, change)
    return np.clip(np.rint(warped.astype(np.float32) + change), 0, 255).astype(np.uint8)
