"""Named loss terms: content, style, TV, temporal and photorealism, each a weight and a function, composed
into eq. 7's total. Region-wise style (semantic masks) is the style term with region targets.

Two unit systems (``units``, README "Loss units"):

* ``scaled`` (default): every term is dimensionless. Content is a per-element mean divided by the content
  target's mean energy on that layer; each style layer's Gram error is divided by its target Gram's energy;
  TV and photorealism are per-pixel means. No term grows with the pixel count, and a constant factor on the
  network's activations (another checkpoint's convention) cancels, so alpha, beta, TV, gamma and lambda mean
  the same at every size and with every checkpoint.
* ``paper``: eqs. 1 and 4 of Gatys et al. 2015 as printed (sums), for reproducing the paper's settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..model.losses import content_loss, style_layer_loss, temporal_loss, tv_loss
from ..model.masks import RegionStyleTarget
from ..model.matting import laplacian_quadratic, matting_laplacian
from .tensors import mask_tensor, to_tensor

Features = dict[str, torch.Tensor]
TermFn = Callable[[Features, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Term:
    """One weighted term of the objective. ``fn(features, image)`` is its unweighted value: ``features`` are the
    activations of the optimised image, ``image`` the output as the user gets it (in luminance mode the
    recombined colour image)."""

    name: str
    weight: float
    fn: TermFn


def compose(terms: list[Term], features: Features, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each term's unweighted value by name, and ``total`` = the weighted sum (eq. 7 and its extensions)."""
    parts = {t.name: t.fn(features, image) for t in terms}
    parts["total"] = sum((t.weight * parts[t.name] for t in terms), image.new_zeros(()))
    return parts


def content_term(targets: Features, weight: float, units: str) -> Term:
    """Eq. 1 against the content frame's activations ``targets`` (layer -> P)."""
    if units == "paper":
        def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
            return sum((content_loss(features[n], p) for n, p in targets.items()), image.new_zeros(()))
    else:
        energy = {n: p.float().pow(2).mean().clamp_min(1e-12) for n, p in targets.items()}

        def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
            return sum(((features[n].float() - p.float()).pow(2).mean() / energy[n] for n, p in targets.items()),
                       image.new_zeros(())) / max(1, len(targets))
    return Term("content", weight, fn)


def style_term(targets: dict[str, torch.Tensor | RegionStyleTarget], layer_weights: tuple[tuple[str, float], ...],
               weight: float, units: str) -> Term:
    """Eqs. 4-5 against normalised Gram targets (or region targets under semantic masks)."""
    relative = units != "paper"
    energy = {n: t.pow(2).sum().clamp_min(1e-12) for n, t in targets.items()
              if relative and not isinstance(t, RegionStyleTarget)}

    def layer(features: torch.Tensor, name: str) -> torch.Tensor:
        target = targets[name]
        if isinstance(target, RegionStyleTarget):
            return target.loss(features, relative=relative)
        if relative:
            n = features.shape[-3]
            return style_layer_loss(features, target) * (4 * n * n) / energy[name]
        return style_layer_loss(features, target)

    def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
        return sum((w * layer(features[n], n) for n, w in layer_weights), image.new_zeros(()))
    return Term("style", weight, fn)


def tv_term(weight: float, units: str) -> Term:
    """Total variation of the output (a sum in paper units, a per-pixel mean in scaled units)."""
    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        tv = tv_loss(image)
        return tv if units == "paper" else tv / (image.shape[-1] * image.shape[-2])
    return Term("tv", weight, fn)


def temporal_term(warped: np.ndarray, mask: np.ndarray, weight: float, device: torch.device | str) -> Term:
    """Ruder et al.'s short-term term: mean of mask * (output - previous output warped into this frame)^2."""
    target, m = to_tensor(warped, device), mask_tensor(mask, device)

    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        return temporal_loss(image, target.to(image.dtype), m)
    return Term("temporal", weight, fn)


def photo_term(frame: np.ndarray, weight: float, units: str, device: torch.device) -> Term:
    """Luan et al.'s photorealism term sum_c V_c^T M V_c with the matting Laplacian M of this content frame."""
    laplacian = matting_laplacian(frame, device=device)
    pixels = 1.0 if units == "paper" else float(frame.shape[0] * frame.shape[1])

    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        return laplacian_quadratic(laplacian, image) / pixels
    return Term("photo", weight, fn)
