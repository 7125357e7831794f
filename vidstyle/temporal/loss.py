"""The short-term temporal loss of Ruder et al. (2016) for the optimisation of frame t."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def temporal_loss(x: torch.Tensor, warped_prev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over pixels and channels of mask * (x - warped_prev)^2.

    x, warped_prev: 1x3xHxW in 0..1; mask: HxW, 1xHxW or 1x1xHxW, 1 = reliable.
    """
    m = mask.reshape(1, 1, *mask.shape[-2:]).to(x.dtype)
    return torch.mean(m * (x - warped_prev) ** 2)


def make_temporal_loss(warped_prev: np.ndarray, mask: np.ndarray, weight: float,
                       device: torch.device | str = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """An ``extra_losses`` entry for Stylizer.stylize: ``weight * temporal_loss(x, warped_prev, mask)``.

    warped_prev: HxWx3 RGB uint8 (the previous stylized frame warped into frame t); mask: HxW float.
    """
    target = torch.from_numpy(np.ascontiguousarray(warped_prev)).to(device=device, dtype=torch.float32)
    target = target.permute(2, 0, 1).unsqueeze(0) / 255.0
    m = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(device)

    def loss(x: torch.Tensor) -> torch.Tensor:
        return weight * temporal_loss(x, target.to(x.dtype), m)

    return loss
