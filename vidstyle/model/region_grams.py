"""Region-wise style maths for semantic masks (Luan et al. 2017): masks shrunk the way VGG shrinks the image,
Grams over a region, and the region-wise style loss of one layer. Label images are read in vidstyle/io/mask_files.py;
which content region takes which style region is decided in vidstyle/engine/regions.py."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def downsample_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Shrink K x H x W (or H x W) masks to a feature map's (h, w) the way VGG's 2x2 pooling shrinks the image.

    Repeated 2x2 average pooling (floor sizes, as in the network) when ``size`` is reached that way, else area
    interpolation. The result is a soft mask in 0..1 (region fractions at boundaries).
    """
    squeeze = mask.dim() == 2
    m = mask[None, None] if squeeze else mask[None]
    m = m if m.is_floating_point() else m.float()
    h, w = size
    cur_h, cur_w, steps = m.shape[-2], m.shape[-1], 0
    while (cur_h, cur_w) != (h, w) and cur_h // 2 >= h and cur_w // 2 >= w:
        cur_h, cur_w, steps = cur_h // 2, cur_w // 2, steps + 1
    if (cur_h, cur_w) == (h, w):
        for _ in range(steps):
            m = F.avg_pool2d(m, 2)
    else:
        m = F.interpolate(m, size=(h, w), mode="area")
    return m[0, 0] if squeeze else m[0]


def masked_gram(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Region Gram matrix sum_k m_k F_ik F_jk / sum_k m_k for features C x H x W (or 1 x C x H x W).

    ``mask`` (H x W, values in 0..1) must already have the feature map's size. With an all-ones mask this is
    the plain Gram matrix F F^T divided by the number of positions. An empty region gives a zero matrix.
    """
    f = features[0] if features.dim() == 4 else features
    c = f.shape[0]
    if tuple(mask.shape) != tuple(f.shape[1:]):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match features {tuple(f.shape[1:])}")
    flat = f.reshape(c, -1)
    m = mask.reshape(1, -1).to(flat.dtype)
    size = m.sum().clamp_min(1e-8)
    return (flat * m) @ flat.t() / size


def region_grams(features: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked Grams of every region for one layer: (K x N x N Grams, K region masses in feature positions).

    ``masks``: K x H x W region masks at image size; they are shrunk to the feature map here.
    """
    small = downsample_mask(masks.to(features.device), tuple(features.shape[-2:]))
    grams = torch.stack([masked_gram(features.float(), m) for m in small])
    return grams, small.flatten(1).sum(1)


@dataclass
class RegionStyleTarget:
    """Style target of one layer under semantic masks: one target Gram per region of the output.

    The loss is sum_k a_k / (4 N^2) * sum_ij (G_k - A_k)_ij^2, where G_k is the output's Gram over region k
    (normalised by the region's size, see ``masked_gram``), A_k the target Gram of the matching style region
    (or of the whole style for an orphan label) and a_k the fraction of the frame region k covers, so a single
    region covering everything gives exactly eq. 4 with normalised Grams, and beta keeps its meaning.
    """

    masks: torch.Tensor  # K x h x w soft masks of the output's regions at this layer's size
    grams: torch.Tensor  # K x N x N target Grams
    weights: torch.Tensor  # K region fractions a_k

    def loss(self, features: torch.Tensor, relative: bool = False) -> torch.Tensor:
        """The region-wise style loss of this layer for activations ``features`` (1 x N x h x w).

        ``relative``: each region's squared error divided by its target Gram's energy (scale-free units)
        instead of by 4 N^2 (eq. 4).
        """
        n = features.shape[-3]
        total = features.new_zeros((), dtype=torch.float32)
        for mask, target, weight in zip(self.masks, self.grams, self.weights):
            error = (masked_gram(features.float(), mask) - target).pow(2).sum()
            total = total + weight * (error / target.pow(2).sum().clamp_min(1e-12) if relative else error)
        return total if relative else total / (4 * n * n)
