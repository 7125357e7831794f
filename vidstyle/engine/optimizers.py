"""--optimizer resolved once: which persistent update the pass of engine/step.py runs (L-BFGS or Adam).

Both keep every evaluated image inside the box (the output is 8-bit RGB in the end, so pixels outside 0..1
would be cut off and the delivered image would not be the optimised one), both keep the best image seen and
return it, so the delivered loss never rises with more passes, and both run as the same persistent,
capturable pass (one forward + backward per pass, no host read). docs/optimisers.md has the measurements
behind the default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .step import LBFGS, Adam

Callback = Callable[[int, dict[str, float]], None]
Method = Callable[[torch.Tensor, float], "Adam | LBFGS"]


def floats(parts: dict[str, torch.Tensor]) -> dict[str, float]:
    """Detached scalar tensors -> Python floats with a single device sync."""
    values = torch.stack([v.detach().float() for v in parts.values()]).tolist()
    return dict(zip(parts.keys(), values))


@dataclass(frozen=True)
class Optimiser:
    """--optimizer resolved once (engine/build.py): the persistent state a problem's pass updates."""

    name: str  # as the user spells it, for messages
    method: Method  # (image, lr) -> the optimiser's buffers and update (engine/step.py)


# keyed by vidstyle/vocab.py's OPTIMIZERS (tests/engine/test_resolved_parts.py checks the two agree)
OPTIMISERS: dict[str, Optimiser] = {"lbfgs": Optimiser("lbfgs", LBFGS), "adam": Optimiser("adam", Adam)}
