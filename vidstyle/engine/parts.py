"""What the engine is made of once the configuration has been resolved (by vidstyle/engine/build.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..io.mask_files import LabelMap
from .targets import StyleTargets


@dataclass
class EngineParts:
    """Resolved parts of a stylizer: arrays, tensors, callables and plain values, never paths or a Config."""

    device: torch.device
    features: Callable[[torch.Tensor], dict[str, torch.Tensor]]  # 0..1 RGB batch -> activations
    targets: StyleTargets
    content_layers: tuple[str, ...]
    style_layers: tuple[tuple[str, float], ...]  # (layer, weight w_l of eq. 5)
    weights: dict[str, float]  # alpha, beta, TV and lambda by term name: content, style, tv, photo (0 = off)
    units: str  # scaled | paper (vidstyle/engine/terms.py)
    optimizer: str
    lr: float
    iterations: int
    init: str | np.ndarray  # "content", "noise" or an image
    seed: int | None
    color_mode: str
    scales: int
    content_labels: LabelMap | None
    orphan_labels: str
    capture: bool = True  # CUDA: capture the Adam pass once per frame size and replay it (engine/step.py)
