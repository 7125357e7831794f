"""What the engine is made of, built by vidstyle/engine/build.py from the settings vidstyle/compose.py resolved."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..io.mask_files import LabelMap
from .colour_modes import ColourMode
from .convergence import StopRule
from .optimizers import Optimiser
from .starts import Start
from .targets import StyleTargets
from .units import Units


@dataclass
class EngineParts:
    """Resolved parts of a stylizer: arrays, tensors, callables, strategy objects and plain values, never paths,
    option strings or a Config (engine/build.py turns the settings' names into these objects once)."""

    device: torch.device
    features: Callable[[torch.Tensor], dict[str, torch.Tensor]]  # 0..1 RGB batch -> activations
    targets: StyleTargets
    content_layers: tuple[str, ...]
    style_layers: tuple[tuple[str, float], ...]  # (layer, weight w_l of eq. 5)
    weights: dict[str, float]  # alpha, beta, TV and lambda by term name: content, style, tv, photo (0 = off)
    units: Units  # scaled | paper (vidstyle/engine/units.py)
    optimizer: Optimiser
    lr: float
    iterations: int
    start: Start  # --init: the content frame, seeded noise or an image (vidstyle/engine/starts.py)
    colour: ColourMode  # --preserve-colors (vidstyle/engine/colour_modes.py)
    scales: int
    content_labels: LabelMap | None
    orphan_labels: str
    capture: bool = True  # CUDA: capture the Adam pass once per frame size and replay it (engine/step.py)
    stop: StopRule | None = None  # when a run stops before its cap (engine/convergence.py); None: fixed budgets
