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

import numpy as np
import torch
import torch.nn.functional as F

from .flow import warp_tensor
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
    """Frame t's start from frame t-1, as ``ShotFollower.follow`` makes it (all on frame t's grid). The images
    stay on the engine's device as 1 x 3 x H x W float32 in 0..1 holding 8-bit levels (value / 255, exactly what
    ``engine.tensors.to_tensor`` makes of the uint8 image), so the init and the temporal target never go
    through the host."""

    warped: torch.Tensor  # the previous stylized frame: copied where still, warped bilinearly elsewhere
    weight: torch.Tensor  # H x W float32: per-pixel temporal weight (0 unreliable, 1 reliable, STILL_BOOST still)
    content: np.ndarray  # the content frame to optimise against (uint8 HxWx3; averaged where still)
    still: torch.Tensor  # H x W bool: pixels judged still
    init: torch.Tensor  # the start image: ``warped`` plus the input's change since it was drawn, where not still


_GAUSS = (1 / 16, 4 / 16, 6 / 16)  # cv2.GaussianBlur((5, 5), 0)'s kernel (outer, next, centre), measured
_GRAY = (9798, 19235, 3735)  # cv2's fixed-point RGB -> gray weights (x 2^-15), so gray levels match to_gray


def levels(image: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """An HxWx3 image (uint8 or float levels) or a 1x3xHxW tensor in 0..1 as 1x3xHxW float32 levels 0..255."""
    if isinstance(image, torch.Tensor):
        return image.to(device=device, dtype=torch.float32).mul(255).round_()
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return t.permute(2, 0, 1)[None].to(torch.float32).contiguous()


def _blurred_gray(image: torch.Tensor) -> torch.Tensor:
    """H x W float32: cv2.GaussianBlur((5, 5), 0) of the 8-bit gray of 1x3xHxW levels (shots.still_pixels' view)."""
    q = image.clamp(0, 255).round().to(torch.int32)
    w = _GRAY
    gray = ((q[:, 0] * w[0] + q[:, 1] * w[1] + q[:, 2] * w[2] + (1 << 14)) >> 15).to(torch.float32)[:, None]
    padded = F.pad(gray, (2, 2, 2, 2), mode="reflect")[0, 0]  # cv2's default border, BORDER_REFLECT_101
    return _gauss5(_gauss5(padded, 1), 0)


def _gauss5(x: torch.Tensor, dim: int) -> torch.Tensor:
    """cv2.GaussianBlur's 5-tap kernel for (5, 5) and sigma 0 along ``dim`` of a padded 2-D tensor, as slices
    and Python weights (no kernel tensor to upload)."""
    n = x.shape[dim] - 4
    taps = [x.narrow(dim, i, n) for i in range(5)]
    return (taps[0] + taps[4]) * _GAUSS[0] + (taps[1] + taps[3]) * _GAUSS[1] + taps[2] * _GAUSS[2]


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

    def __init__(self, device: torch.device | str = "cpu") -> None:
        """``device``: where the carried images live (the engine's device)."""
        self.device = torch.device(device)
        self._content: torch.Tensor | None = None  # 1x3xHxW float32 running mean of the content (levels)
        self._drawn_for: torch.Tensor | None = None  # 1x3xHxW float32 levels: the content each output pixel was made for

    def reset(self) -> None:
        """Forget the shot (a cut, or the first frame)."""
        self._content = self._drawn_for = None

    def follow(self, prev_output: np.ndarray | torch.Tensor, frame: np.ndarray, motion: Motion,
               prev_frame: np.ndarray | None = None) -> Followed:
        """Move stylized frame t-1 into frame t along ``motion`` (backward flow, Ruder's mask, still pixels).

        ``prev_output``: stylized frame t-1, best as the engine's delivered device tensor (1x3xHxW in 0..1);
        an HxWx3 uint8 array (a resumed run's last written frame) is uploaded. Only the frame, the flow and the
        masks are uploaded here; everything else is computed on the device. ``prev_frame``: input frame t-1,
        what stylized frame t-1 was drawn for when the follower has not seen it (the shot's first frame);
        default: this frame (no change to add)."""
        dev = prev_output.device if isinstance(prev_output, torch.Tensor) else self.device
        previous = levels(prev_output, dev)
        current = levels(frame, dev)
        flow = torch.from_numpy(np.ascontiguousarray(motion.flow, dtype=np.float32)).to(dev)
        reliable = torch.from_numpy(np.ascontiguousarray(motion.mask, dtype=np.float32)).to(dev)
        moved = torch.from_numpy(np.ascontiguousarray(motion.still, dtype=bool)).to(dev)
        drawn = self._drawn_for if self._drawn_for is not None and self._drawn_for.shape == current.shape else (
            levels(prev_frame, dev) if prev_frame is not None else current)
        unchanged = (_blurred_gray(current) - _blurred_gray(drawn)).abs() <= STILL_TOLERANCE
        still = moved & unchanged
        keep = still[None, None]
        # cv2.remap of the uint8 output rounded to levels; of the float anchor it did not
        warped = torch.where(keep, previous, warp_tensor(previous, flow).round_().clamp_(0, 255))
        drawn_here = torch.where(keep, drawn, warp_tensor(drawn, flow))
        init = painted_init(warped, current - drawn_here, keep)
        # still pixels stay drawn for what they were drawn for; the others are drawn for this frame now
        self._drawn_for = torch.where(keep, drawn_here, current)
        if self._content is not None and self._content.shape == current.shape:
            blend = CONTENT_MEMORY * self._content + (1 - CONTENT_MEMORY) * current
            current = torch.where(keep, blend, current)
        self._content = current
        content = current.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).contiguous().cpu().numpy()
        weight = torch.where(still, torch.full_like(reliable, STILL_BOOST), (reliable > 0).to(torch.float32))
        return Followed(warped / 255, weight, content, still, init / 255)


def painted_init(warped: torch.Tensor, change: torch.Tensor, still: torch.Tensor) -> torch.Tensor:
    """Frame t's start in flow mode (levels): the stylized pixels moved into frame t plus the input's change
    since they were drawn, on every pixel that is not still (``still`` broadcasts over ``warped``).

    The change brings in what the warp cannot: the detail a bilinear resampling blurred away and what newly
    appeared. Pixels Ruder's mask rejects start so too, painted (the strokes that were there, carrying the new
    photo's structure), not from the photo, which a few passes never paint to the shot's first frame's level.
    Still pixels keep stylized frame t-1 exactly.
    """
    change = torch.where(still, torch.zeros_like(change), change)
    return (warped + change).round_().clamp_(0, 255)
