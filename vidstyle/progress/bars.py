"""Rich progress bars with ETA for long work; silent with --quiet."""
from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..vocab import CONVERGED

STDERR = Console(stderr=True)


def make_progress(quiet: bool, *extra_columns: TextColumn) -> Progress:
    """A progress display on stderr: description, bar, i/N, elapsed, ETA, then any extra columns."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), *extra_columns,
                    console=STDERR, disable=quiet)


def format_clock(seconds: float | None) -> str:
    """A duration as h:mm:ss for an ETA; ``None`` (not known yet) as -:--:--."""
    if seconds is None:
        return "-:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_losses(losses: dict[str, float]) -> str:
    """Short human-readable losses: 'content 1.2e+09 style 3.8e+05'."""
    return " ".join(f"{k} {v:.3g}" for k, v in losses.items() if k != "total" and v)


class PassBar:
    """A Stylizer callback that advances a bar over the passes of one image, showing the last losses."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress, self.task = progress, task

    def __call__(self, iteration: int, losses: dict[str, float]) -> None:
        self.progress.update(self.task, completed=iteration, losses=format_losses(losses))

    def finished(self, passes: int, stopped: str) -> None:
        """The run ended after ``passes``: a run the stopping rule ended shows a full bar of what it spent."""
        if stopped == CONVERGED:
            self.progress.update(self.task, total=passes, completed=passes,
                                 losses=f"converged after {passes} passes (its look stopped changing)")


@contextlib.contextmanager
def iteration_progress(total: int, quiet: bool, description: str = "stylizing") -> Iterator[PassBar]:
    """Yield a Stylizer callback that advances a bar over at most ``total`` passes, showing the last losses."""
    with make_progress(quiet, TextColumn("{task.fields[losses]}")) as progress:
        yield PassBar(progress, progress.add_task(description, total=total, losses=""))
