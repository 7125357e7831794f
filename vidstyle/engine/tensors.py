"""The one set of conversions between NumPy images and the engine's tensors."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..io.mask_files import LabelMap

_LUMA = (0.299, 0.587, 0.114)  # BT.601, as vidstyle.color


def to_tensor(image: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """H x W x 3 uint8 RGB -> 1 x 3 x H x W float32 in 0..1 on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return t.permute(2, 0, 1)[None].float().div_(255).contiguous()


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W in 0..1 -> H x W x 3 uint8 RGB (rounded, clamped): what the user gets."""
    return tensor.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def mask_tensor(mask: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """H x W float mask -> H x W float32 tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(device)


def grey_tensor(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of a 1x3xHxW RGB tensor, replicated to three channels (differentiable)."""
    w = x.new_tensor(_LUMA).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand_as(x)


def one_hot(labels: LabelMap, device: torch.device | str) -> torch.Tensor:
    """K x H x W float32 tensor, 1 where the pixel has label k."""
    lab = torch.from_numpy(labels.labels).to(device)
    return F.one_hot(lab, len(labels.colors)).permute(2, 0, 1).float()
