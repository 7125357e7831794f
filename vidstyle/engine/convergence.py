"""When a frame's look has stopped changing: the stopping rule every image and video frame runs under.

A run stops once its best delivered loss has improved by less than ``tolerance`` (relative) over the last
``window`` passes; the pass budget (--iterations, --first-iterations) is the cap. The rule sees the best
loss only where it was read: every ``step.READ_EVERY`` passes, without blocking the device where the pass
is persistent (``step.LossReader``: on CUDA the decision may lag a few passes and the GPU never waits), so
the check costs nothing per pass. A batch stops when every sample has converged.

The default tolerance is calibrated on the delivered look (style strength and content fidelity under a fixed
network, vidstyle/metrics/look.py) against the full budget: docs/stopping.md, benchmarks/bench_budget.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..vocab import CAP, CONVERGED

__all__ = ["CAP", "CONVERGED", "Convergence", "StopRule", "TOLERANCE", "WINDOW"]

TOLERANCE = 0.022  # relative improvement of the best loss over WINDOW passes below which a run stops
WINDOW = 50  # passes the improvement is judged over (also the fewest passes a run that stops spends)


@dataclass(frozen=True)
class StopRule:
    """The stopping rule of a run (None in its place: fixed budgets, every pass of the cap is spent)."""

    tolerance: float = TOLERANCE
    window: int = WINDOW

    def watch(self) -> Convergence:
        """A fresh watch for one optimisation."""
        return Convergence(self)


@dataclass
class Convergence:
    """The best losses one optimisation reported so far, and whether they have stopped falling."""

    rule: StopRule
    seen: list[tuple[int, tuple[float, ...]]] = field(default_factory=list)  # (pass, best loss per sample)
    stopped_at: int | None = None  # the pass at which the rule fired

    def converged(self, done: int, best: Sequence[float]) -> bool:
        """Record the best losses read after pass ``done``; True when every sample improved by less than
        the tolerance (relative) since the last reading at least ``window`` passes earlier."""
        values = tuple(float(b) for b in best)
        self.seen.append((done, values))
        earlier = [v for n, v in self.seen if n <= done - self.rule.window]
        if not earlier:
            return False
        old = earlier[-1]
        if not all(_settled(o, b, self.rule.tolerance) for o, b in zip(old, values)):
            return False
        self.stopped_at = done
        return True


def _settled(old: float, new: float, tolerance: float) -> bool:
    """A best loss that went from ``old`` to ``new`` improved by less than ``tolerance`` of ``old``. A
    non-finite value never settles (the finite check reports it)."""
    if not (abs(old) < float("inf") and abs(new) < float("inf")):
        return False
    return old - new <= tolerance * abs(old)

