"""Quality-targeted pass budget (flow mode): a frame gets more passes when its look lags its shot's first frame.

At small budgets (8-20 passes a frame) a frame that starts from the previous one sometimes ends its passes
less painted or less faithful than the first frame of its shot, which had --first-iterations from scratch.
``PassBudget`` compares the frame's own style and content terms (the losses of the delivered 8-bit image,
under the run's own layers) with the shot's first frame's and, while either is more than ``tolerance``
above, grants ``step`` more passes, never more than ``cap`` x --iterations in all: a run costs at most
``cap`` times the fixed budget, and easy frames cost nothing extra. Measurements: docs/real-footage.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TERMS = ("style", "content")  # the two figures "kept" is judged by (vidstyle/metrics/look.py)
TOLERANCE = 0.1  # a term more than 10 % above the shot's first frame's asks for more passes
CAP = 1.5  # at most 1.5 x --iterations passes for a frame after the first of its shot


@dataclass
class PassBudget:
    """Extra passes for the frames of one shot, judged against the shot's first frame's losses (none before a
    first frame was seen: a run resumed in the middle of a shot gives its frames --iterations only)."""

    iterations: int  # --iterations: the passes every frame gets
    tolerance: float = TOLERANCE
    cap: float = CAP
    _reference: dict[str, float] | None = field(default=None, repr=False)

    @property
    def reference(self) -> dict[str, float] | None:
        """The shot's first frame's style and content terms (None before a first frame was seen)."""
        return self._reference

    @property
    def limit(self) -> int:
        """Most passes a frame may spend."""
        return max(self.iterations, round(self.cap * self.iterations))

    @property
    def step(self) -> int:
        """Passes granted at a time."""
        return max(1, self.iterations // 2)

    def shot_started(self, losses: dict[str, float]) -> None:
        """The first frame of a shot was delivered with these losses: the reference until the next cut."""
        self._reference = {k: losses[k] for k in TERMS if k in losses}

    def behind(self, losses: dict[str, float]) -> bool:
        """Whether a term of this frame is more than ``tolerance`` above the shot's first frame's."""
        ref = self._reference or {}
        return any(losses.get(k, 0.0) > (1 + self.tolerance) * v for k, v in ref.items() if v > 0)

    def more(self, losses: dict[str, float], spent: int) -> int:
        """Passes to add to a frame that has spent ``spent`` and now has ``losses`` (0: it is done)."""
        if spent >= self.limit or not self.behind(losses):
            return 0
        return min(self.step, self.limit - spent)
