"""The style side of eq. 7: Gram targets of one or more style images, computed once per frame size.

Blending (``weights``, normalised to sum 1), style scale (style images resized to ``scale`` x the frame's long
side), colour preservation (Gatys et al. 2016: the styles' colours matched to a *reference* content image
before their Grams are taken) and region Grams under a style mask all live here, so the optimisation sees
one set of targets whatever the controls.

The reference is taken once (the first frame, or the image the caller names) so that the targets stay fixed
over a video: no per-frame recomputation and no flicker from per-frame re-matching.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..errors import VidstyleError
from ..io.images import resize_long_side
from ..io.mask_files import LabelMap
from ..model.losses import normalized_gram
from ..model.region_grams import region_grams
from .colour_modes import ColourMode
from .tensors import one_hot, to_tensor

MIN_SIDE = 16  # the smallest long side the network is run on (scaled style image, coarsest scale)
Features = Callable[[torch.Tensor], dict[str, torch.Tensor]]


class StyleTargets:
    """Blended, normalised Gram targets per style layer for a frame of a given long side (cached)."""

    def __init__(self, styles: list[np.ndarray], weights: list[float], layers: tuple[str, ...], features: Features,
                 device: torch.device, *, scale: float = 1.0, colour: ColourMode = ColourMode(),
                 labels: LabelMap | None = None) -> None:
        if not styles:
            raise VidstyleError("at least one style image is needed")
        if labels is not None and len(styles) > 1:
            raise VidstyleError("--style-mask needs exactly one style image")
        self.raw = list(styles)
        self.styles = list(styles)
        self.weights = [w / sum(weights) for w in weights]
        self.layers, self.features, self.device = layers, features, device
        self.scale, self.colour, self.labels = scale, colour, labels
        self.reference: np.ndarray | None = None
        self._grams: dict[int, dict[str, torch.Tensor]] = {}
        self._regions: dict[int, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {}

    def set_reference(self, content: np.ndarray) -> None:
        """Match the style images' colours to ``content`` (histogram / luminance modes); drops cached targets."""
        self.reference = content
        matched = self.colour.match_styles(self.raw, content)
        if matched is None:
            return
        self.styles = matched
        self._grams.clear()
        self._regions.clear()

    def side(self, long_side: int) -> int:
        """The long side the style images are resized to for a frame with this long side."""
        side = round(self.scale * long_side)
        if side < MIN_SIDE:
            raise VidstyleError(f"--style-scale {self.scale:g} makes the style image {side} px (long side) for a "
                                f"{long_side} px frame; it must be at least {MIN_SIDE} px")
        return side

    def grams(self, long_side: int) -> dict[str, torch.Tensor]:
        """layer -> blended normalised Gram for a frame with this long side."""
        side = self.side(long_side)
        if side not in self._grams:
            self._compute(side)
        return self._grams[side]

    def regions(self, long_side: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """layer -> (Grams of every style-mask region, their masses) for a frame with this long side."""
        side = self.side(long_side)
        if side not in self._regions:
            self._compute(side)
        return self._regions[side]

    def _compute(self, side: int) -> None:
        targets: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for image, weight in zip(self.styles, self.weights):
                image = resize_long_side(image, side)
                feats = self.features(to_tensor(image, self.device))
                for name in self.layers:
                    gram = weight * normalized_gram(feats[name][0])
                    targets[name] = targets[name] + gram if name in targets else gram
                if self.labels is not None:  # one style image: the Grams of each of its regions as well
                    self.labels.check_fits(image.shape, "style")
                    masks = one_hot(self.labels.resized(*image.shape[:2]), self.device)
                    self._regions[side] = {n: region_grams(feats[n], masks) for n in self.layers}
        self._grams[side] = targets
