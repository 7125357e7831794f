"""Projected L-BFGS over an image kept inside 0..1 (Adam is the persistent, capturable pass of step.py).

Both keep every evaluated image inside the box (the output is 8-bit RGB in the end, so pixels outside 0..1
would be cut off and the delivered image would not be the optimised one), both keep the best image seen and
return it, so the delivered loss never rises with more passes, and both spend exactly ``budget`` passes
(forward + backward) unless L-BFGS converges first. README "Optimisers" has the measurements behind the
defaults.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ..errors import VidstyleError
from .convergence import Convergence
from .step import READ_EVERY

Losses = Callable[[], dict[str, torch.Tensor]]
Callback = Callable[[int, dict[str, float]], None]


class _BudgetSpent(Exception):
    """Raised inside the L-BFGS closure once the pass budget is used."""


class _Converged(Exception):
    """Raised inside the L-BFGS closure, after a full pass, once the stopping rule says the run has converged."""


def floats(parts: dict[str, torch.Tensor]) -> dict[str, float]:
    """Detached scalar tensors -> Python floats with a single device sync."""
    values = torch.stack([v.detach().float() for v in parts.values()]).tolist()
    return dict(zip(parts.keys(), values))


class Objective:
    """One forward/backward pass per call at the projected image, with the budget and the best image kept.

    The optimiser sees total / (first total): in the paper's units eq. 7 reaches ~1e10 and L-BFGS's cubic line
    search squares products of such values, overflowing float32; a constant factor leaves the minimiser
    unchanged. The best image is tracked on the device (no host sync per pass); a non-finite loss at any pass
    is an error (a broken checkpoint or settings), never a silently unstylized result.
    """

    def __init__(self, losses: Losses, x: torch.Tensor, budget: int, callback: Callback | None,
                 watch: Convergence | None = None) -> None:
        self.losses, self.x, self.budget, self.callback, self.watch = losses, x, budget, callback, watch
        self.done = 0
        self.scale: torch.Tensor | None = None
        self.best_value = torch.full((), math.inf, device=x.device)
        self.best_x = x.detach().clone()
        self.finite = torch.ones((), dtype=torch.bool, device=x.device)

    def __call__(self) -> torch.Tensor:
        if self.done >= self.budget:
            raise _BudgetSpent
        with torch.no_grad():
            self.x.clamp_(0, 1)
        self.x.grad = None
        parts = self.losses()
        total = parts["total"].float()
        if self.scale is None:
            self.scale = total.detach().abs().clamp_min(1e-30)
        objective = total / self.scale
        objective.backward()
        self.done += 1
        with torch.no_grad():
            _project_gradient(self.x)
            value = total.detach()
            self.finite &= torch.isfinite(value)
            better = value < self.best_value
            self.best_value = torch.where(better, value, self.best_value)
            self.best_x.copy_(torch.where(better, self.x.detach(), self.best_x))
        if self.callback is not None:
            self.check_finite()
            self.callback(self.done, floats(parts))
        # the stopping rule reads the best loss every READ_EVERY passes (torch's L-BFGS reads the host anyway)
        if self.watch is not None and self.done % READ_EVERY == 0 and self.done < self.budget \
                and self.watch.converged(self.done, [float(self.best_value)]):
            raise _Converged
        return objective

    def check_finite(self) -> None:
        """VidstyleError when any pass so far had a NaN or infinite loss (one host sync)."""
        if not bool(self.finite):
            raise VidstyleError("the loss became NaN or infinite during the optimisation; check the weights file "
                                "and the loss weights (a checkpoint holding NaN, or weights too large)")

    def consider_current(self) -> None:
        """The point the optimiser moved to last among the candidates: when the budget runs out inside a line
        search, that trial point was never evaluated (with one pass, the only step taken). Measured once
        without a gradient, kept when better."""
        with torch.no_grad():
            self.x.clamp_(0, 1)
            value = self.losses()["total"].float()
            better = value < self.best_value  # False for NaN: a broken trial point is never delivered
            self.best_value = torch.where(better, value, self.best_value)
            self.best_x.copy_(torch.where(better, self.x.detach(), self.best_x))

    def finish(self) -> None:
        """Leave the best image seen in ``x``."""
        self.check_finite()
        if self.done:
            with torch.no_grad():
                self.x.copy_(self.best_x)


def _project_gradient(x: torch.Tensor) -> None:
    """Zero the gradient of pixels held at a bound that descent would push further out (projected gradient):
    L-BFGS then builds its curvature pairs from moves that really happen."""
    if x.grad is not None:
        outward = ((x <= 0) & (x.grad > 0)) | ((x >= 1) & (x.grad < 0))
        x.grad.masked_fill_(outward, 0)


def run_lbfgs(x: torch.Tensor, objective: Objective, lr: float = 1.0) -> None:
    """L-BFGS with a strong-Wolfe line search, every trial point projected into 0..1, until the budget is
    spent. torch's L-BFGS stops for good when a line search finds no decrease (noisy losses); it is then
    restarted with a fresh history from the best image, so a run never ends quietly early."""
    del lr  # L-BFGS's step comes from its line search
    while objective.done < objective.budget:
        before = objective.done
        optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=objective.budget, max_eval=objective.budget,
                                      tolerance_grad=0.0, tolerance_change=0.0, history_size=50,
                                      line_search_fn="strong_wolfe")
        try:
            optimizer.step(objective)
        except _BudgetSpent:
            objective.consider_current()
            break
        except _Converged:  # raised after a full pass: the point it stopped at was measured
            break
        objective.finish()
        if objective.done - before <= 1:  # converged: nothing left to gain
            break
    objective.finish()


@dataclass(frozen=True)
class Optimiser:
    """--optimizer resolved once (engine/build.py): ``eager`` runs torch's optimiser over the eager terms
    (L-BFGS: its line search reads the host); None means Adam's persistent, capturable pass (engine/step.py)
    over one problem per frame size."""

    name: str  # as the user spells it, for messages
    eager: Callable[[torch.Tensor, Objective, float], None] | None

    @property
    def persistent(self) -> bool:
        """Runs the persistent pass (batches of frames allowed)."""
        return self.eager is None


# keyed by vidstyle/vocab.py's OPTIMIZERS (tests/engine/test_resolved_parts.py checks the two agree)
OPTIMISERS: dict[str, Optimiser] = {"lbfgs": Optimiser("lbfgs", run_lbfgs), "adam": Optimiser("adam", None)}
