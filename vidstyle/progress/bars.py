"""Rich progress bars with ETA for long work; silent with --quiet."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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


@contextlib.contextmanager
def iteration_progress(total: int, quiet: bool, description: str = "stylizing") -> Iterator[Callable[[int, dict[str, float]], None]]:
    """Yield a Stylizer callback that advances a bar over ``total`` iterations, showing the last losses."""
    with make_progress(quiet, TextColumn("{task.fields[losses]}")) as progress:
        task = progress.add_task(description, total=total, losses="")

        def callback(iteration: int, losses: dict[str, float]) -> None:
            progress.update(task, completed=iteration, losses=format_losses(losses))

        yield callback
