"""Progress of a video run: what the ``progress`` callback receives per frame, and the rich frame bar (frame i/N,
frames per second, ETA, last losses)."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from rich.progress import BarColumn, Progress, TextColumn

from .bars import STDERR, format_clock, format_losses
from .notes import info_note
from ..vocab import CAP, CONVERGED


@dataclass
class FrameUpdate:
    """What the ``progress`` callback of ``stylize_video`` receives after each computed frame."""

    index: int  # 0-based position of the frame in the output
    total: int | None  # expected number of output frames (None when the container does not say)
    computed: int  # frames computed by this run so far (resumed frames not counted)
    iterations: int  # passes spent (the stopping rule may end a frame before its budget)
    losses: dict[str, float]
    seconds: float
    stopped: str = CAP  # "converged": its look stopped changing before the budget; "cap": the budget was spent


class FrameEvents:
    """A watcher of the per-frame loop, passed in by whoever runs it: the loop reports to it and never knows
    whether a bar, a user callback or nothing listens. Every event does nothing by default."""

    wants_passes = False  # pass_done after every optimiser pass (each one then reads the losses)

    def __enter__(self) -> "FrameEvents":
        return self

    def __exit__(self, *exc: object) -> None:
        """Done watching (a bar closes its display)."""

    def frame_started(self, iterations: int) -> None:
        """A frame is being optimised for ``iterations`` passes."""

    def pass_done(self, iteration: int, losses: dict[str, float]) -> None:
        """One optimiser pass of the current frame is done (only when ``wants_passes``)."""

    def frame_finished(self, update: FrameUpdate) -> None:
        """A frame is stylized (and handed to the writer)."""

    def counted(self, total: int) -> None:
        """The input has been read to its end: ``total`` frames in all."""

    def note(self, text: str) -> None:
        """Something about how the run works, said once (a pass that runs eagerly, not captured)."""


class CallbackEvents(FrameEvents):
    """The ``progress`` callback of ``stylize_video`` as a watcher: called with each finished frame."""

    def __init__(self, callback: Callable[[FrameUpdate], None]) -> None:
        self.callback = callback

    def frame_finished(self, update: FrameUpdate) -> None:
        self.callback(update)


class Watchers(FrameEvents):
    """Several watchers as one (a bar and a callback), each told every event in turn."""

    def __init__(self, *watchers: FrameEvents | None) -> None:
        self.watchers = [w for w in watchers if w is not None]
        self.wants_passes = any(w.wants_passes for w in self.watchers)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Watchers":
        for w in self.watchers:
            self._stack.enter_context(w)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def frame_started(self, iterations: int) -> None:
        for w in self.watchers:
            w.frame_started(iterations)

    def pass_done(self, iteration: int, losses: dict[str, float]) -> None:
        for w in self.watchers:
            if w.wants_passes:
                w.pass_done(iteration, losses)

    def frame_finished(self, update: FrameUpdate) -> None:
        for w in self.watchers:
            w.frame_finished(update)

    def counted(self, total: int) -> None:
        for w in self.watchers:
            w.counted(total)

    def note(self, text: str) -> None:
        for w in self.watchers:
            w.note(text)


class FrameBar(FrameEvents):
    """A rich bar over frames on stderr; the ETA uses the average time of the frames computed in this run."""

    def __init__(self, total: int | None, done: int, quiet: bool) -> None:
        self.total, self.done, self.computed = total, done, 0
        self.wants_passes = not quiet  # --quiet: no bar and no per-pass callbacks
        self.started = time.perf_counter()
        self.progress = Progress(TextColumn("[bold]frame {task.fields[frame]}"), BarColumn(),
                                 TextColumn("{task.fields[rate]} ETA {task.fields[eta]}"),
                                 TextColumn("{task.fields[detail]}"), console=STDERR, disable=quiet)
        self.task = self.progress.add_task("frames", total=total, completed=done, frame=self._frame_text(),
                                           rate="", eta=format_clock(None), detail="resuming" if done else "")
        self.iterations = 0
        self.early = 0  # frames the stopping rule ended before their budget

    def _frame_text(self) -> str:
        return f"{self.done}/{self.total if self.total is not None else '?'}"

    def __enter__(self) -> "FrameBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def frame_started(self, iterations: int) -> None:
        """A new frame is being optimised for ``iterations`` passes."""
        self.iterations = iterations

    def pass_done(self, iteration: int, losses: dict[str, float]) -> None:
        """Show the pass within the frame and the current losses."""
        self.progress.update(self.task, detail=f"it {iteration}/{self.iterations}  {format_losses(losses)}")

    def frame_finished(self, update: FrameUpdate) -> None:
        """Advance by one computed frame and refresh frames per second and ETA."""
        losses = update.losses
        self.done += 1
        self.computed += 1
        elapsed = time.perf_counter() - self.started
        fps = self.computed / elapsed if elapsed > 0 else 0.0
        left = None if self.total is None or fps == 0 else max(0, self.total - self.done) / fps
        rate = f"{fps:.2f} fps" if fps >= 0.1 else f"{1 / fps:.1f} s/frame" if fps else ""
        self.early += update.stopped == CONVERGED
        stop = (f"converged at it {update.iterations} ({self.early}/{self.computed} frames early)  "
                if update.stopped == CONVERGED else "")
        self.progress.update(self.task, completed=self.done, frame=self._frame_text(), rate=rate,
                             eta=format_clock(left), detail=stop + format_losses(losses))

    def counted(self, total: int) -> None:
        """The real frame count, once the input has been read to its end."""
        self.total = total
        self.progress.update(self.task, total=total, frame=self._frame_text())

    def note(self, text: str) -> None:
        """One line above the bar (nothing under --quiet)."""
        info_note(text, quiet=not self.wants_passes)

