"""The one set of conversions between NumPy images and the engine's tensors."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..io.mask_files import LabelMap
from .accelerator import accelerator_for

_LUMA = (0.299, 0.587, 0.114)  # BT.601, as vidstyle.color


def to_tensor(image: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """H x W x 3 uint8 RGB -> 1 x 3 x H x W float32 in 0..1 on ``device`` (uploaded as 8-bit, through the
    device's accelerator: from page-locked memory without blocking on CUDA)."""
    t = accelerator_for(torch.device(device)).upload(image)
    return t.permute(2, 0, 1)[None].float().div_(255).contiguous()


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W in 0..1 -> H x W x 3 uint8 RGB (rounded, clamped): what the user gets (one read)."""
    pixels = tensor.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
    return accelerator_for(tensor.device).read(pixels)[0]


def mask_tensor(mask: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """H x W float mask -> H x W float32 tensor on ``device``."""
    return accelerator_for(torch.device(device)).upload(np.asarray(mask, dtype=np.float32))


def grey_tensor(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of a Bx3xHxW RGB tensor, replicated to three channels (differentiable).

    The weights are Python scalars of the multiplications, not a tensor built from them: a tensor made from
    Python data inside the pass is a host-to-device copy, which a CUDA graph capture refuses."""
    r, g, b = _LUMA
    luma = x[:, 0:1] * r + x[:, 1:2] * g + x[:, 2:3] * b
    return luma.expand_as(x)


def one_hot(labels: LabelMap, device: torch.device | str) -> torch.Tensor:
    """K x H x W float32 tensor, 1 where the pixel has label k."""
    lab = accelerator_for(torch.device(device)).upload(labels.labels)
    return F.one_hot(lab, len(labels.colors)).permute(2, 0, 1).float()
