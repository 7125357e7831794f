"""Flow mode's carry-over: stylized frame t-1 moved into frame t (Ruder et al. 2016) as the temporal target,
Ruder's mask as its weight, and the painted start image.

Every pixel of the start image is the stylized pixel moved along the backward flow *plus the input's change
since it was drawn* (frame t minus frame t-1 moved the same way): what the bilinear warp blurred and what newly
appeared arrive as the photo's change on top of the strokes that were there, so pixels Ruder's mask rejects
start painted too, not from the photo, which 8-20 passes never paint to the shot's first frame's look.
Everything is computed on the engine's device from the uploaded frames and motion.

Pixels are not told apart as "still" (copied unresampled, noise-averaged content): on real footage that held
slowly moving content in place and cost both content and steadiness (docs/real-footage.md, third round).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..engine.accelerator import accelerator_for
from .flow import warp_tensor
from .shots import Motion


@dataclass
class Followed:
    """Frame t's start from frame t-1 (on frame t's grid, on the engine's device). The images are 1 x 3 x H x W
    float32 in 0..1 holding 8-bit levels (value / 255, exactly what ``engine.tensors.to_tensor`` makes of the
    uint8 image), so the init and the temporal target never go through the host."""

    warped: torch.Tensor  # stylized frame t-1 warped bilinearly along the backward flow
    weight: torch.Tensor  # H x W float32: the temporal term's weight, Ruder's mask (1 reliable, 0 not)
    init: torch.Tensor  # the start image: ``warped`` plus the input's change since it was drawn


def levels(image: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """An HxWx3 image (uint8 or float levels) or a 1x3xHxW tensor in 0..1 as 1x3xHxW float32 levels 0..255."""
    if isinstance(image, torch.Tensor):
        return image.to(device=device, dtype=torch.float32).mul(255).round_()
    t = accelerator_for(torch.device(device)).upload(image)  # pinned and without blocking on CUDA
    return t.permute(2, 0, 1)[None].to(torch.float32).contiguous()


def follow(prev_output: np.ndarray | torch.Tensor, current: torch.Tensor, drawn: torch.Tensor,
           motion: Motion) -> Followed:
    """Move stylized frame t-1 into frame t along ``motion`` (its backward flow and Ruder's mask).

    ``prev_output``: stylized frame t-1, best as the engine's delivered device tensor (1x3xHxW in 0..1); an
    HxWx3 uint8 array (a resumed run's last written frame) is uploaded to the frames' device. ``current``
    and ``drawn``: input frames t and t-1 (what stylized frame t-1 was drawn for) as ``levels`` on the device
    the result is made on. Only the flow and the mask are uploaded here."""
    dev = current.device
    upload = accelerator_for(dev).upload  # pinned and without blocking on CUDA
    flow = upload(np.asarray(motion.flow, dtype=np.float32))
    reliable = upload(np.asarray(motion.mask, dtype=np.float32))
    # cv2.remap of the uint8 output rounded to levels; the input's change is kept unrounded until the sum
    warped = warp_tensor(levels(prev_output, dev), flow).round_().clamp_(0, 255)
    change = current - warp_tensor(drawn, flow)
    return Followed(warped / 255, reliable, painted_init(warped, change) / 255)  # the mask is 0/1 already


def painted_init(warped: torch.Tensor, change: torch.Tensor) -> torch.Tensor:
    """Frame t's start in flow mode (levels): the stylized pixels moved into frame t plus the input's change
    since they were drawn, rounded to 8-bit levels."""
    return (warped + change).round_().clamp_(0, 255)
