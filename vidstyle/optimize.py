"""The Gatys optimisation loop for one frame: network and style targets built once, then frame after frame."""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from .config import Config
from .errors import VidstyleError
from .io.images import read_image, resize_long_side
from .model.losses import GatysLoss, normalized_gram
from .model.masks import (
    LabelMap,
    match_labels,
    read_label_mask,
    region_grams,
    region_style_targets,
)
from .model.weights import load_encoder
from .runtime import autocast, autocast_dtype, select_device

ExtraLoss = Callable[[torch.Tensor], torch.Tensor]
Callback = Callable[[int, dict[str, float]], None]


@dataclass
class StylizeResult:
    """One stylized frame with its final losses."""

    image: np.ndarray  # H x W x 3 RGB uint8
    losses: dict[str, float]
    iterations: int
    seconds: float


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """H x W x 3 uint8 RGB -> 1 x 3 x H x W float32 in 0..1 on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None].float().div_(255).contiguous()


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W in 0..1 -> H x W x 3 uint8 RGB (rounded, clamped)."""
    return tensor.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


class Stylizer:
    """Holds the encoder and the style Gram targets; ``stylize`` runs eq. 7's optimisation for one frame."""

    def __init__(self, config: Config, style: np.ndarray | Sequence[np.ndarray], *,
                 style_weights: Sequence[float] | None = None) -> None:
        self.config = config
        self.plan = config.layer_plan()
        self.device = select_device(config.device)
        self.dtype = autocast_dtype(self.device, config.precision)
        self.encoder = load_encoder(config.weights, config.weights_format, self.plan.layers, config.pooling,
                                    self.device, quiet=config.quiet)
        self.styles = [style] if isinstance(style, np.ndarray) else list(style)
        if not self.styles:
            raise VidstyleError("at least one style image is needed")
        weights = [1.0] * len(self.styles) if style_weights is None else [float(w) for w in style_weights]
        if len(weights) != len(self.styles) or min(weights) < 0 or sum(weights) <= 0:
            raise VidstyleError(f"need {len(self.styles)} non-negative style weights with a positive sum")
        self.style_weights = [w / sum(weights) for w in weights]
        self._style_cache: dict[int, dict[str, torch.Tensor]] = {}
        self._init_image = read_image(config.init) if config.init not in ("content", "noise") else None
        # Semantic masks (photo section of Config): the style's labels, and the content's when it is one file.
        self.style_labels = read_label_mask(config.style_mask) if config.style_mask else None
        if self.style_labels is not None and len(self.styles) > 1:
            raise VidstyleError("--style-mask needs exactly one style image")
        self.content_labels = (read_label_mask(config.content_mask)
                               if config.content_mask and not os.path.isdir(config.content_mask) else None)
        self._region_cache: dict[int, dict[str, tuple[torch.Tensor, torch.Tensor]]] = {}

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Network activations of a 0..1 RGB batch, under the mixed-precision policy."""
        with autocast(self.device, self.dtype):
            return self.encoder(image)

    def style_side(self, long_side: int) -> int:
        """The long side style images are scaled to for a frame with this long side (the same here)."""
        return long_side

    def style_targets(self, long_side: int) -> dict[str, torch.Tensor]:
        """Blended normalised Grams per style layer for a frame with this long side; cached."""
        long_side = self.style_side(long_side)
        if long_side not in self._style_cache:
            layers = [name for name, _ in self.plan.style]
            targets: dict[str, torch.Tensor] = {}
            with torch.no_grad():
                for image, weight in zip(self.styles, self.style_weights):
                    image = resize_long_side(image, long_side)
                    feats = self.features(to_tensor(image, self.device))
                    for name in layers:
                        gram = weight * normalized_gram(feats[name])
                        targets[name] = targets[name] + gram if name in targets else gram
                    if self.style_labels is not None:  # one style image: per-region Grams as well
                        self.style_labels.check_fits(image.shape, "style")
                        masks = self.style_labels.resized(*image.shape[:2]).one_hot(self.device)
                        self._region_cache[long_side] = {n: region_grams(feats[n], masks) for n in layers}
            self._style_cache[long_side] = targets
        return self._style_cache[long_side]

    def loss_for(self, content: np.ndarray, mask: LabelMap | None = None) -> tuple[GatysLoss, torch.Tensor]:
        """Eq. 7 bound to one content frame (and its semantic mask, if any), and that frame as a tensor."""
        c = to_tensor(content, self.device)
        with torch.no_grad():
            feats = self.features(c)
        content_targets = {n: feats[n].detach() for n in self.plan.content}
        long_side = max(content.shape[:2])
        style_targets: dict = self.style_targets(long_side)
        labels = mask if mask is not None else self.content_labels
        if labels is not None:
            if self.style_labels is None:
                raise VidstyleError("a content mask needs a style mask (--style-mask)")
            labels.check_fits(content.shape, "content")
            matches = match_labels(labels, self.style_labels, self.config.orphan_labels)
            masks = labels.resized(*content.shape[:2]).one_hot(self.device)
            style_targets = region_style_targets(feats, masks, matches, self._region_cache[self.style_side(long_side)],
                                                 style_targets)
        return GatysLoss(self.plan, style_targets, content_targets), c

    def initial_image(self, content: torch.Tensor) -> torch.Tensor:
        """--init: the content frame, seeded white noise, or an image file resized to the frame."""
        if self.config.init == "content":
            return content.clone()
        if self.config.init == "noise":
            gen = torch.Generator().manual_seed(self.config.seed if self.config.seed is not None else 0)
            return torch.rand(content.shape, generator=gen).to(self.device)
        h, w = content.shape[-2:]
        return to_tensor(cv2.resize(self._init_image, (w, h), interpolation=cv2.INTER_AREA), self.device)

    def stylize(self, content: np.ndarray, *, init: np.ndarray | None = None, iterations: int | None = None,
                extra_losses: Sequence[ExtraLoss] = (), callback: Callback | None = None,
                mask: LabelMap | None = None) -> StylizeResult:
        """Optimise an image against eq. 7 (+ extra losses) for ``iterations`` forward/backward passes.

        ``mask``: this frame's semantic labels (default: config.content_mask when it is a single file).
        """
        start = time.perf_counter()
        if self.config.seed is not None:
            torch.manual_seed(self.config.seed)
        iterations = self.config.iterations if iterations is None else iterations
        loss_fn, c = self.loss_for(content, mask)
        if init is not None and init.shape != content.shape:
            raise VidstyleError(f"init image is {init.shape[1]}x{init.shape[0]}, content is {content.shape[1]}x{content.shape[0]}")
        x = (to_tensor(init, self.device) if init is not None else self.initial_image(c)).requires_grad_(True)
        objective = _Objective(lambda: self._total(loss_fn, x, extra_losses), x, iterations, callback)
        if iterations > 0 and self.config.optimizer == "lbfgs":
            _run_lbfgs(x, objective)
        elif iterations > 0:
            objective.track_best = False
            optimizer = torch.optim.Adam([x], lr=self.config.lr)
            for _ in range(iterations):
                optimizer.step(objective)
                with torch.no_grad():
                    x.clamp_(0, 1)
        with torch.no_grad():
            x.clamp_(0, 1)
        if self.config.optimizer == "lbfgs" and objective.last:
            losses = _floats(objective.last)  # x is the best image seen, and these are its losses
        else:  # Adam's last pass saw the image before its final step and clamp: evaluate what is returned
            with torch.no_grad():
                losses = _floats(self._total(loss_fn, x, extra_losses))
        return StylizeResult(to_image(x), losses, objective.done, time.perf_counter() - start)

    def _total(self, loss_fn: GatysLoss, x: torch.Tensor, extra_losses: Sequence[ExtraLoss]) -> dict[str, torch.Tensor]:
        """Eq. 7's components for the current image, plus the extra losses folded into the total."""
        parts = loss_fn(self.features(x), x)
        if extra_losses:
            parts["extra"] = sum(f(x) for f in extra_losses)
            parts["total"] = parts["total"] + parts["extra"]
        return parts

    def evaluate(self, image: np.ndarray, content: np.ndarray, mask: LabelMap | None = None) -> dict[str, float]:
        """Eq. 7's components for ``image`` against ``content`` and the style, without optimising."""
        loss_fn, _ = self.loss_for(content, mask)
        x = to_tensor(image, self.device)
        with torch.no_grad():
            return _floats(loss_fn(self.features(x), x))


class _BudgetSpent(Exception):
    """Raised inside the L-BFGS closure once the iteration budget is used."""


class _Objective:
    """The optimiser's closure: one forward/backward pass per call, with the budget, the best image seen and
    the last losses kept. The optimiser sees total / (first total): eq. 7 in the paper's units reaches ~1e10,
    and L-BFGS's cubic line search squares products of such values, overflowing float32 into NaN; a constant
    factor leaves the minimiser unchanged."""

    def __init__(self, losses: Callable[[], dict[str, torch.Tensor]], x: torch.Tensor, budget: int,
                 callback: Callback | None) -> None:
        self.losses, self.x, self.budget, self.callback = losses, x, budget, callback
        self.done = 0
        self.scale: float | None = None
        self.last: dict[str, torch.Tensor] = {}
        self.best: tuple[float, torch.Tensor, dict[str, torch.Tensor]] | None = None
        self.track_best = True  # L-BFGS keeps the best image seen; Adam takes its last step

    def __call__(self) -> torch.Tensor:
        if self.done >= self.budget:  # L-BFGS's line search may ask for more passes than the budget
            raise _BudgetSpent
        self.x.grad = None
        parts = self.losses()
        value = parts["total"].item()
        if self.scale is None:
            self.scale = value if math.isfinite(value) and value > 0 else 1.0
        objective = parts["total"] / self.scale
        objective.backward()
        self.done += 1
        self.last = {k: v.detach() for k, v in parts.items()}
        if self.track_best and (self.best is None or value < self.best[0]):
            self.best = (value, self.x.detach().clone(), self.last)
        if self.callback is not None:
            self.callback(self.done, _floats(self.last))
        return objective


def _run_lbfgs(x: torch.Tensor, objective: _Objective) -> None:
    """L-BFGS with a strong-Wolfe line search until the budget is spent. torch's L-BFGS stops for good when a
    line search finds no decrease (noisy losses); it is then restarted with a fresh history from the best
    image, so a run never ends quietly early. At the end ``x`` holds the best image seen."""
    while objective.done < objective.budget:
        before = objective.done
        optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=objective.budget, max_eval=objective.budget,
                                      tolerance_grad=0.0, tolerance_change=0.0, history_size=50,
                                      line_search_fn="strong_wolfe")
        try:
            optimizer.step(objective)
        except _BudgetSpent:
            break
        if objective.best is not None:
            with torch.no_grad():
                x.copy_(objective.best[1])
        if objective.done - before <= 1:  # converged: nothing left to gain
            break
    if objective.best is not None:  # the line search may stop on a trial point: keep the best one seen
        with torch.no_grad():
            x.copy_(objective.best[1])
        objective.last = objective.best[2]


def _floats(parts: dict[str, torch.Tensor]) -> dict[str, float]:
    """Detached scalar tensors -> Python floats with a single device sync."""
    values = torch.stack([v.float() for v in parts.values()]).tolist()
    return dict(zip(parts.keys(), values))
