"""The losses of Gatys et al. 2015, Methods: content (eq. 1), Gram (eq. 3), style (eqs. 4-5), total (eq. 7)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import LayerPlan
from .masks import RegionStyleTarget


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


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 1: 1/2 sum_ij (F_ij - P_ij)^2."""
    return 0.5 * (features.float() - target.float()).pow(2).sum()


def style_layer_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Eq. 4: E_l = 1/(4 N^2 M^2) sum_ij (G_ij - A_ij)^2.

    ``target_gram`` is the style Gram already divided by its own M (see ``normalized_gram``), so the formula
    stays eq. 4 exactly when style and output have the same size and remains meaningful when they do not.
    """
    n = features.shape[-3]
    m = features.shape[-1] * features.shape[-2]
    return (gram_matrix(features) / m - target_gram).pow(2).sum() / (4 * n * n)


def normalized_gram(features: torch.Tensor) -> torch.Tensor:
    """A_l / M_l: the style target of one layer, independent of the style image's size."""
    return gram_matrix(features) / (features.shape[-1] * features.shape[-2])


def style_term(features: torch.Tensor, target: torch.Tensor | RegionStyleTarget) -> torch.Tensor:
    """E_l for a plain normalised Gram target, or its region-wise sum under semantic masks."""
    if isinstance(target, RegionStyleTarget):
        return target.loss(features)
    return style_layer_loss(features, target)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: sum of squared differences between neighbouring pixels (image in 0..1 RGB)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).sum() + dy.pow(2).sum()


@dataclass
class GatysLoss:
    """Eq. 7 with the targets of one content frame and one (possibly blended) style.

    ``style_targets`` maps layer -> normalised Gram (computed once per style image, never per iteration), or
    -> RegionStyleTarget when semantic masks are used (per-region Grams, see vidstyle.model.masks);
    ``content_targets`` maps layer -> feature responses P of the content frame.
    """

    plan: LayerPlan
    style_targets: dict[str, torch.Tensor | RegionStyleTarget]
    content_targets: dict[str, torch.Tensor]

    def __call__(self, features: dict[str, torch.Tensor], image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the components and the weighted total for the activations of ``image``."""
        zero = image.new_zeros(())
        content = sum((content_loss(features[n], self.content_targets[n]) for n in self.plan.content), zero)
        style = sum((w * style_term(features[n], self.style_targets[n]) for n, w in self.plan.style), zero)
        tv = tv_loss(image) if self.plan.tv_weight else zero
        total = self.plan.content_weight * content + self.plan.style_weight * style + self.plan.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}
