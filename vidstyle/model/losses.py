"""The loss maths of Gatys et al. 2015 (Methods: eqs. 1, 3, 4) and the image-space terms, as pure functions of
tensors. Which terms a run uses, and with which weights, is the engine's business (vidstyle/engine/terms.py)."""
from __future__ import annotations

import torch


class _Gram(torch.autograd.Function):
    """F F^T with a one-matmul backward, dL/dF = (dL/dG + dL/dG^T) F (autograd would use two)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flat)
        return flat @ flat.t()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (flat,) = ctx.saved_tensors
        return (grad + grad.t()) @ flat


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Eq. 3: G_ij = sum_k F_ik F_jk for one feature map (1 x N x H x W or N x H x W), in float32."""
    n = features.shape[-3]
    return _Gram.apply(features.reshape(n, -1).float())


def normalized_gram(features: torch.Tensor) -> torch.Tensor:
    """A_l / M_l: the Gram divided by the number of positions, independent of the image's size."""
    return gram_matrix(features) / (features.shape[-1] * features.shape[-2])


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 1: 1/2 sum_ij (F_ij - P_ij)^2."""
    return 0.5 * (features.float() - target.float()).pow(2).sum()


def style_layer_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Eq. 4: E_l = 1/(4 N^2 M^2) sum_ij (G_ij - A_ij)^2.

    ``target_gram`` is the style Gram already divided by its own M (``normalized_gram``), so the formula stays
    eq. 4 exactly when style and output have the same size and remains meaningful when they do not.
    """
    n = features.shape[-3]
    return (normalized_gram(features) - target_gram).pow(2).sum() / (4 * n * n)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: sum of squared differences between neighbouring pixels (image in 0..1 RGB)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).sum() + dy.pow(2).sum()


def temporal_loss(x: torch.Tensor, warped_prev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Ruder et al. 2016's short-term term: mean over pixels and channels of mask * (x - warped_prev)^2.

    x, warped_prev: 1x3xHxW in 0..1; mask: HxW, 1xHxW or 1x1xHxW, 1 = reliable.
    """
    m = mask.reshape(1, 1, *mask.shape[-2:]).to(x.dtype)
    return torch.mean(m * (x - warped_prev) ** 2)
