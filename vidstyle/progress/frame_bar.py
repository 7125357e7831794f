"""Progress of a video run: what the ``progress`` callback receives per frame, and the rich frame bar (frame i/N,
frames per second, ETA, last losses)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from rich.progress import BarColumn, Progress, TextColumn

from .bars import STDERR, format_clock, format_losses


@dataclass
class FrameUpdate:
    """What the ``progress`` callback of ``stylize_video`` receives after each computed frame."""

    index: int  # 0-based position of the frame in the output
    total: int | None  # expected number of output frames (None when the container does not say)
    computed: int  # frames computed by this run so far (resumed frames not counted)
    iterations: int
    losses: dict[str, float]
    seconds: float


class FrameBar:
    """A rich bar over frames on stderr; the ETA uses the average time of the frames computed in this run."""

    def __init__(self, total: int | None, done: int, quiet: bool) -> None:
        self.total, self.done, self.computed = total, done, 0
        self.started = time.perf_counter()
        self.progress = Progress(TextColumn("[bold]frame {task.fields[frame]}"), BarColumn(),
                                 TextColumn("{task.fields[rate]} ETA {task.fields[eta]}"),
                                 TextColumn("{task.fields[detail]}"), console=STDERR, disable=quiet)
        self.task = self.progress.add_task("frames", total=total, completed=done, frame=self._frame_text(),
                                           rate="", eta=format_clock(None), detail="resuming" if done else "")
        self.iterations = 0

    def _frame_text(self) -> str:
        return f"{self.done}/{self.total if self.total is not None else '?'}"

    def __enter__(self) -> "FrameBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def start_frame(self, iterations: int) -> None:
        """A new frame is being optimised for ``iterations`` passes."""
        self.iterations = iterations

    def iteration(self, it: int, losses: dict[str, float]) -> None:
        """Stylizer callback: show the iteration within the frame and the current losses."""
        self.progress.update(self.task, detail=f"it {it}/{self.iterations}  {format_losses(losses)}")

    def frame_done(self, losses: dict[str, float]) -> None:
        """Advance by one computed frame and refresh frames per second and ETA."""
        self.done += 1
        self.computed += 1
        elapsed = time.perf_counter() - self.started
        fps = self.computed / elapsed if elapsed > 0 else 0.0
        left = None if self.total is None or fps == 0 else max(0, self.total - self.done) / fps
        rate = f"{fps:.2f} fps" if fps >= 0.1 else f"{1 / fps:.1f} s/frame" if fps else ""
        self.progress.update(self.task, completed=self.done, frame=self._frame_text(), rate=rate,
                             eta=format_clock(left), detail=format_losses(losses))

    def set_total(self, total: int) -> None:
        """The real frame count, once the input has been read to its end."""
        self.total = total
        self.progress.update(self.task, total=total, frame=self._frame_text())

