"""How each video frame starts: --temporal none | warm | flow (Ruder et al. 2016), shot changes included."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..engine import StylizeResult, Term, temporal_term
from ..errors import VidstyleError
from .budget import PassBudget
from .flow import FlowEstimator
from .shots import SHOT_THRESHOLD, Motion, analyze_motion
from .follow import follow, levels


@dataclass
class FrameStart:
    """What ``Stylizer.stylize`` gets for one frame: an init image, a pass budget and extra loss terms."""

    # None = the engine's --init (a cold start); flow: a 1x3xHxW tensor in 0..1 on the engine's device;
    # warm: the previous output as it was given (the engine's device tensor, or an HxWx3 uint8 array)
    init: np.ndarray | torch.Tensor | None
    iterations: int
    terms: list[Term] = field(default_factory=list)
    shot_change: bool = False  # flow mode: this frame was treated as the first of a new shot
    reliable: float | None = None  # flow mode: fraction of pixels the previous frame can be followed into
    cold: bool = True  # the first frame, a cut, or --temporal none: nothing carried over

    def record(self) -> dict[str, object]:
        """Fields worth keeping in a run report."""
        out: dict[str, object] = {}
        if self.reliable is not None:
            out.update(reliable=round(self.reliable, 4), shot_change=self.shot_change)
        return out


class TemporalPlanner:
    """Decides init, iteration budget and temporal loss for each frame from the previous input/output pair.

    none: every frame starts cold from --init. warm: frame t starts from stylized frame t-1. flow: stylized
    frame t-1 is warped along the backward optical flow into frame t with the input's change since it was
    drawn added (follow.py: unreliable pixels too start painted); ``weight`` * mean(mask * (x - warped)^2)
    joins eq. 7 on the pixels Ruder's mask calls reliable; a frame the flow cannot follow (a cut) starts cold
    with the first-frame budget; ``finish`` gives a frame whose look lags its shot's first frame more passes (budget.py).

    Flow only depends on the input frames, so ``prefetch(frame_t, frame_t+1)`` analyses the next pair in a
    worker thread (OpenCV and NumPy release the GIL) while frame t is being optimised; on a GPU this hides
    the flow's cost. Call ``close()`` when done (or use the planner as a context manager).
    """

    def __init__(self, mode: str, *, iterations: int, first_iterations: int, weight: float = 0.0,
                 quality: str = "medium", device: torch.device | str = "cpu",
                 shot_threshold: float = SHOT_THRESHOLD) -> None:
        self.mode, self.weight, self.device = mode, float(weight), device
        self.iterations, self.first_iterations = iterations, first_iterations
        self.shot_threshold = shot_threshold
        self.estimator = FlowEstimator(quality) if mode == "flow" else None
        self.budget = PassBudget(iterations)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[np.ndarray, np.ndarray, Future[Motion]] | None = None
        self._uploaded: tuple[np.ndarray, torch.Tensor] | None = None  # the last input frame and its levels

    def __enter__(self) -> "TemporalPlanner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker thread (a pending analysis is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # a DIS call takes milliseconds
            self._pool, self._pending = None, None

    def _submit(self, prev: np.ndarray, cur: np.ndarray) -> Future[Motion]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidstyle-flow")
        return self._pool.submit(analyze_motion, prev, cur, self.estimator, shot_threshold=self.shot_threshold)

    def prefetch(self, frame: np.ndarray, next_frame: np.ndarray | None) -> None:
        """Start analysing the motion from ``frame`` to ``next_frame`` in the background (flow mode only)."""
        if self.mode == "flow" and next_frame is not None and next_frame.shape == frame.shape:
            self._pending = (frame, next_frame, self._submit(frame, next_frame))

    def motion(self, prev_frame: np.ndarray, frame: np.ndarray) -> Motion:
        """The motion analysis of this pair: the prefetched one when it matches, else computed now."""
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] is prev_frame and pending[1] is frame:
            return pending[2].result()
        return self._submit(prev_frame, frame).result()  # the worker owns the DIS instance

    def resumed(self, reference: dict[str, float] | None) -> None:
        """A run resumed inside a shot: its first frame's delivered losses (from the work directory's log),
        the reference of the budget top-ups as if the run had never stopped (None: unknown, no top-ups)."""
        if reference is not None and self.mode == "flow":
            self.budget.shot_started(reference)

    def start(self, frame: np.ndarray, prev_frame: np.ndarray | None,
              prev_output: np.ndarray | torch.Tensor | None) -> FrameStart:
        """The start of frame t given input frame t-1 and stylized frame t-1 (both None for the first frame).

        ``prev_output``: best the engine's delivered image on its device (``StylizeResult.pixels``, 1x3xHxW in
        0..1), so flow mode warps it there and the init and temporal target never go through the host; an
        HxWx3 uint8 array (a resumed run's last written frame) is uploaded once."""
        if prev_frame is None or prev_output is None:
            return FrameStart(None, self.first_iterations)
        if self.mode == "none":
            return FrameStart(None, self.iterations)
        size = tuple(prev_output.shape[-2:] if isinstance(prev_output, torch.Tensor) else prev_output.shape[:2])
        if size != frame.shape[:2]:
            raise VidstyleError(f"frame size changed from {size} to {frame.shape[:2]}")
        if self.mode == "warm":
            return FrameStart(prev_output, self.iterations, cold=False)
        motion = self.motion(prev_frame, frame)
        if motion.shot_change:
            return FrameStart(None, self.first_iterations, shot_change=True, reliable=motion.matched)
        dev = prev_output.device if isinstance(prev_output, torch.Tensor) else torch.device(self.device)
        drawn = self._levels(prev_frame, dev)  # uploaded as frame t-1's input: not again
        f = follow(prev_output, self._levels(frame, dev), drawn, motion)
        terms = [temporal_term(f.warped, f.weight, self.weight, self.device)] if self.weight > 0 else []
        return FrameStart(f.init, self.iterations, terms, reliable=motion.matched, cold=False)

    def _levels(self, frame: np.ndarray, device: torch.device) -> torch.Tensor:
        """``frame``'s 8-bit levels on ``device``, uploaded once: frame t's are frame t+1's "drawn for"."""
        if self._uploaded is not None and self._uploaded[0] is frame and self._uploaded[1].device == device:
            return self._uploaded[1]
        self._uploaded = (frame, levels(frame, device))
        return self._uploaded[1]

    def finish(self, start: FrameStart, result: StylizeResult,
               again: Callable[[np.ndarray | torch.Tensor, int], StylizeResult]) -> StylizeResult:
        """Frame t's result, with more passes (``again(image, passes)``) while its style or content term lags its
        shot's first frame's (flow mode, budget.py); a cold start becomes the reference of the shot."""
        if self.mode != "flow":
            return result
        if start.cold:
            self.budget.shot_started(result.losses)
            return result
        while extra := self.budget.more(result.losses, result.iterations):
            more = again(result.image if result.pixels is None else result.pixels, extra)  # from the device copy
            result = StylizeResult(more.image, more.losses, result.iterations + more.iterations,
                                   result.seconds + more.seconds, more.pixels, more.capture, more.stopped)
        return result

