"""Named loss terms: content, style, TV, temporal and photorealism, each a weight and a function, composed
into eq. 7's total. Region-wise style (semantic masks) is the style term with region targets.

The unit system (``Units``, vidstyle/engine/units.py, README "Loss units") is an object chosen once by
engine/build.py; each term takes it and applies its normalisations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..model.losses import content_loss, gram_matrix, style_layer_loss, temporal_loss, tv_loss
from ..model.region_grams import RegionStyleTarget
from ..model.matting import laplacian_quadratic, matting_laplacian
from .tensors import mask_tensor, to_tensor
from .units import Units

Features = dict[str, torch.Tensor]
TermFn = Callable[[Features, torch.Tensor], torch.Tensor]


@dataclass(frozen=True, eq=False)  # compared by identity: it may carry arrays
class Term:
    """One weighted term of the objective. ``fn(features, image)`` is its unweighted value: ``features`` are the
    activations of the optimised image, ``image`` the output as the user gets it (in luminance mode the
    recombined colour image)."""

    name: str
    weight: float
    fn: TermFn
    frame: tuple[np.ndarray | torch.Tensor, ...] = ()  # a built-in term's per-frame data (temporal: warped, mask)


def compose(terms: list[Term], features: Features, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each term's unweighted value by name, and ``total`` = the weighted sum (eq. 7 and its extensions)."""
    parts = {t.name: t.fn(features, image) for t in terms}
    parts["total"] = sum((t.weight * parts[t.name] for t in terms), image.new_zeros(()))
    return parts


def content_term(targets: Features, weight: float, units: Units) -> Term:
    """Eq. 1 against the content frame's activations ``targets`` (layer -> P)."""
    return Term("content", weight, units.content_fn(targets))


def style_term(targets: dict[str, torch.Tensor | RegionStyleTarget], layer_weights: tuple[tuple[str, float], ...],
               weight: float, units: Units) -> Term:
    """Eqs. 4-5 against normalised Gram targets (or region targets under semantic masks)."""
    plain = units.style_layer_fn({n: t for n, t in targets.items() if not isinstance(t, RegionStyleTarget)})

    def layer(features: torch.Tensor, name: str) -> torch.Tensor:
        target = targets[name]
        if isinstance(target, RegionStyleTarget):
            return target.loss(features, relative=units.relative)
        return plain(features, name)

    def fn(features: Features, image: torch.Tensor) -> torch.Tensor:
        return sum((w * layer(features[n], n) for n, w in layer_weights), image.new_zeros(()))
    return Term("style", weight, fn)


def tv_term(weight: float, units: Units) -> Term:
    """Total variation of the output (a sum in paper units, a per-pixel mean in scaled units)."""
    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        return tv_loss(image) / units.pixels(image.shape[-2], image.shape[-1])
    return Term("tv", weight, fn)


def _image_on(image: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """An HxWx3 uint8 array (uploaded) or a 1x3xHxW tensor in 0..1 (kept, moved only if on another device)."""
    return image.to(device=device, dtype=torch.float32) if isinstance(image, torch.Tensor) else to_tensor(image, device)


def _mask_on(mask: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """An HxW mask as float32 on ``device`` (a tensor is kept where it is already)."""
    return mask.to(device=device, dtype=torch.float32) if isinstance(mask, torch.Tensor) else mask_tensor(mask, device)


def temporal_term(warped: np.ndarray | torch.Tensor, mask: np.ndarray | torch.Tensor, weight: float,
                  device: torch.device | str) -> Term:
    """Ruder et al.'s short-term term: mean of mask * (output - previous output warped into this frame)^2.

    ``warped``: an HxWx3 uint8 array or, as flow mode gives it, a 1x3xHxW tensor in 0..1 already on the
    device; ``mask``: HxW weights, an array or a tensor. Tensors are used without a trip through the host."""
    target, m = _image_on(warped, device), _mask_on(mask, device)

    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        return temporal_loss(image, target.to(image.dtype), m)
    return Term("temporal", weight, fn, (warped, mask))


def photo_term(frame: np.ndarray, weight: float, units: Units, device: torch.device) -> Term:
    """Luan et al.'s photorealism term sum_c V_c^T M V_c with the matting Laplacian M of this content frame."""
    laplacian = matting_laplacian(frame, device=device)
    pixels = units.pixels(frame.shape[0], frame.shape[1])

    def fn(_features: Features, image: torch.Tensor) -> torch.Tensor:
        return laplacian_quadratic(laplacian, image) / pixels
    return Term("photo", weight, fn)


# --- persistent terms: the same maths over buffers allocated once per frame size (vidstyle/engine/step.py) ----
# Each slot gives raw per-sample values (B,) and constant coefficients: term value = sum_j coef_j * raw_j.
# Per-frame data (content activations, the warped previous output) is copied into the slot's buffers, so the
# pass that reads them is the same function over the same memory for every frame.

class ContentSlot:
    """Eq. 1 (paper) or the per-element mean over the target's energy (scaled), per sample."""

    name = "content"

    def __init__(self, features: Features, layers: tuple[str, ...], units: Units) -> None:
        self.units = units
        self.targets = {n: torch.zeros_like(features[n], dtype=torch.float32) for n in layers}
        self.scales = {n: torch.ones(features[n].shape[0], device=features[n].device) for n in layers}
        self.coefs = [units.content_coef(features[n][0].numel(), len(layers)) for n in layers]

    def load(self, features: Features) -> None:
        """This frame's content activations and their per-sample factor (scaled units: inverse mean energy)."""
        with torch.no_grad():
            for n, target in self.targets.items():
                target.copy_(features[n])
                self.units.fill_content_scale(target, self.scales[n])

    def raws(self, features: Features, _image: torch.Tensor) -> list[torch.Tensor]:
        return [F.mse_loss(features[n].float(), target, reduction="none").sum((1, 2, 3)) * self.scales[n]
                for n, target in self.targets.items()]


class StyleSlot:
    """Eqs. 4-5 against the (fixed) normalised Gram targets, per sample: sum (G - A M)^2 with the 1/M^2 and the
    unit's normalisation folded into the coefficients."""

    name = "style"

    def __init__(self, features: Features, targets: dict[str, torch.Tensor],
                 layer_weights: tuple[tuple[str, float], ...], units: Units) -> None:
        self.layers = [n for n, _ in layer_weights]
        self.targets, self.coefs = {}, []
        for n, w in layer_weights:
            f = features[n]
            channels, positions = f.shape[-3], f.shape[-1] * f.shape[-2]
            target = targets[n].float()
            norm = units.style_norm(target, channels)
            self.targets[n] = (target * positions).expand(f.shape[0], channels, channels)
            self.coefs.append(w / (norm * positions ** 2))

    def raws(self, features: Features, _image: torch.Tensor) -> list[torch.Tensor]:
        return [F.mse_loss(gram_matrix(features[n]), self.targets[n], reduction="none").sum((1, 2))
                for n in self.layers]


class TVSlot:
    """Total variation per sample (a sum in paper units, a per-pixel mean in scaled units)."""

    name = "tv"

    def __init__(self, shape: torch.Size, units: Units) -> None:
        self.coefs = [1.0 / units.pixels(shape[-2], shape[-1])]

    def raws(self, _features: Features, image: torch.Tensor) -> list[torch.Tensor]:
        dx = image[..., :, 1:] - image[..., :, :-1]
        dy = image[..., 1:, :] - image[..., :-1, :]
        return [dx.pow(2).sum((1, 2, 3)) + dy.pow(2).sum((1, 2, 3))]


class TemporalSlot:
    """Ruder et al.'s short-term term over persistent buffers: mean of m * (x - warped)^2, computed as the
    squared distance of sqrt(m) x to sqrt(m) warped (one fused kernel). A frame without a temporal target
    (the first frame, a cut) loads an empty mask."""

    name = "temporal"

    def __init__(self, shape: torch.Size, device: torch.device) -> None:
        self.root_mask = torch.zeros(shape[0], 1, *shape[-2:], device=device)
        self.target = torch.zeros(shape, device=device)
        self.coefs = [1.0 / (shape[-3] * shape[-2] * shape[-1])]

    def load(self, warped: np.ndarray | torch.Tensor | None, mask: np.ndarray | torch.Tensor | None) -> None:
        """Stylized frame t-1 warped into frame t and its weights (None: no temporal target this frame); device
        tensors (temporal_term's layouts) are copied in place on the device, arrays are uploaded."""
        with torch.no_grad():
            if warped is None or mask is None:
                self.root_mask.zero_()
                self.target.zero_()
                return
            self.root_mask.copy_(_mask_on(mask, self.root_mask.device).sqrt().expand_as(self.root_mask))
            self.target.copy_(_image_on(warped, self.target.device)).mul_(self.root_mask)

    def raws(self, _features: Features, image: torch.Tensor) -> list[torch.Tensor]:
        return [F.mse_loss(image * self.root_mask, self.target, reduction="none").sum((1, 2, 3))]


class GenericSlot:
    """A term given as a function (photorealism, region-wise style, caller's terms): evaluated eagerly, one
    sample only."""

    traceable = False
    _WHY = {"style": "region-wise style under semantic masks", "photo": "the photorealism term"}

    def __init__(self, term: Term) -> None:
        self.name, self.term, self.coefs = term.name, term, [1.0]

    @property
    def untraceable(self) -> str:
        """Why a pass holding this term is not captured (named for --report and the progress line)."""
        what = self._WHY.get(self.name, f"the caller's term {self.name!r}")
        return f"{what} is a plain autograd function of the frame, evaluated eagerly"

    def raws(self, features: Features, image: torch.Tensor) -> list[torch.Tensor]:
        return [self.term.fn(features, image).float().reshape(1)]
