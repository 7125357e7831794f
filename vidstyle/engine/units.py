"""Loss units (--loss-units, README "Loss units"), chosen once by engine/build.py and handed to the terms.

* ``ScaledUnits`` (default): every term is dimensionless. Content is a per-element mean divided by the
  content target's mean energy on that layer; each style layer's Gram error is divided by its target Gram's
  energy; TV and photorealism are per-pixel means. No term grows with the pixel count, and a constant factor
  on the network's activations (another checkpoint's convention) cancels, so alpha, beta, TV, gamma and
  lambda mean the same at every size and with every checkpoint.
* ``PaperUnits``: eqs. 1 and 4 of Gatys et al. 2015 as printed (sums), for reproducing the paper's settings.

Each unit system is one object with the normalisations the terms (engine/terms.py) apply, so no term asks
which units are in force.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..model.losses import content_loss, style_layer_loss

Features = dict[str, torch.Tensor]


class Units:
    """The normalisations of one unit system."""

    relative: bool  # style errors relative to the target Gram's energy (region targets take it as a switch)

    def content_fn(self, targets: Features) -> Callable[[Features, torch.Tensor], torch.Tensor]:
        """The content term's value against ``targets`` (layer -> P), as a function of (features, image)."""
        raise NotImplementedError

    def content_coef(self, sample_numel: int, layers: int) -> float:
        """Persistent content slot: the constant factor on one layer's per-sample squared error."""
        raise NotImplementedError

    def fill_content_scale(self, target: torch.Tensor, out: torch.Tensor) -> None:
        """Persistent content slot: write the per-sample factor of this frame's target (B x C x H x W) into
        ``out`` (B,), in place (no new tensor per frame)."""
        raise NotImplementedError

    def style_layer_fn(self, targets: dict[str, torch.Tensor]) -> Callable[[torch.Tensor, str], torch.Tensor]:
        """One style layer's error against a plain (normalised) Gram target, as a function of (features, layer)."""
        raise NotImplementedError

    def style_norm(self, target: torch.Tensor, channels: int) -> float:
        """Persistent style slot: what one layer's sum (G - A)^2 (both over M) is divided by, besides M^2."""
        raise NotImplementedError

    def pixels(self, height: int, width: int) -> float:
        """What TV and photorealism are divided by: 1 (sums) or the pixel count (per-pixel means)."""
        raise NotImplementedError


class ScaledUnits(Units):
    """Dimensionless terms (the default)."""

    relative = True

    def content_fn(self, targets: Features) -> Callable[[Features, torch.Tensor], torch.Tensor]:
        energy = {n: p.float().pow(2).mean().clamp_min(1e-12) for n, p in targets.items()}

        def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
            return sum(((features[n].float() - p.float()).pow(2).mean() / energy[n] for n, p in targets.items()),
                       image.new_zeros(())) / max(1, len(targets))
        return fn

    def content_coef(self, sample_numel: int, layers: int) -> float:
        return 1.0 / (sample_numel * max(1, layers))

    def fill_content_scale(self, target: torch.Tensor, out: torch.Tensor) -> None:
        torch.mean(target.pow(2), (1, 2, 3), out=out)
        out.clamp_min_(1e-12).reciprocal_()

    def style_layer_fn(self, targets: dict[str, torch.Tensor]) -> Callable[[torch.Tensor, str], torch.Tensor]:
        energy = {n: t.pow(2).sum().clamp_min(1e-12) for n, t in targets.items()}

        def layer(features: torch.Tensor, name: str) -> torch.Tensor:
            n = features.shape[-3]
            return style_layer_loss(features, targets[name]) * (4 * n * n) / energy[name]
        return layer

    def style_norm(self, target: torch.Tensor, channels: int) -> float:
        return target.pow(2).sum().clamp_min(1e-12).item()

    def pixels(self, height: int, width: int) -> float:
        return float(height * width)


class PaperUnits(Units):
    """Eqs. 1 and 4 as printed (sums)."""

    relative = False

    def content_fn(self, targets: Features) -> Callable[[Features, torch.Tensor], torch.Tensor]:
        def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
            return sum((content_loss(features[n], p) for n, p in targets.items()), image.new_zeros(()))
        return fn

    def content_coef(self, sample_numel: int, layers: int) -> float:
        return 0.5

    def fill_content_scale(self, target: torch.Tensor, out: torch.Tensor) -> None:
        out.fill_(1.0)

    def style_layer_fn(self, targets: dict[str, torch.Tensor]) -> Callable[[torch.Tensor, str], torch.Tensor]:
        return lambda features, name: style_layer_loss(features, targets[name])

    def style_norm(self, target: torch.Tensor, channels: int) -> float:
        return 4.0 * channels ** 2

    def pixels(self, height: int, width: int) -> float:
        return 1.0


# keyed by vidstyle/vocab.py's LOSS_UNITS (tests/engine/test_resolved_parts.py checks the two agree)
UNITS: dict[str, Units] = {"scaled": ScaledUnits(), "paper": PaperUnits()}
