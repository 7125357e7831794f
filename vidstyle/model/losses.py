"""The loss maths of Gatys et al. 2015 (Methods: eqs. 1, 3, 4) and the image-space terms, as pure functions of
tensors. Which terms a run uses, and with which weights, is the engine's business (vidstyle/engine/terms.py)."""
from __future__ import annotations

import torch


class _Gram(torch.autograd.Function):
    """F F^T per sample (B x N x M -> B x N x N) with a one-matmul backward, dL/dF = (dL/dG + dL/dG^T) F
    (autograd would use two). Written in the ``setup_context`` form so that ``torch.func.grad`` and
    ``torch.compile`` can trace it (the engine's one-graph pass)."""

    @staticmethod
    def forward(flat: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.bmm(flat, flat.transpose(1, 2))

    @staticmethod
    def setup_context(ctx: torch.autograd.function.FunctionCtx, inputs: tuple[torch.Tensor],
                      output: torch.Tensor) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (flat,) = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), flat)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Eq. 3: G_ij = sum_k F_ik F_jk, in float32, per sample: B x N x H x W -> B x N x N (N x H x W -> N x N).

    Each sample of a batch gets its own Gram (a batch of frames is a batch of independent problems)."""
    single = features.dim() == 3
    batch = features[None] if single else features
    gram = _Gram.apply(batch.reshape(batch.shape[0], batch.shape[1], -1).float())
    return gram[0] if single else gram


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
