"""Progress of a distributed run: committed frames (rate, ETA) and chunks (done, running) on stderr."""
from __future__ import annotations

import time

from rich.progress import BarColumn, Progress, TextColumn

from .bars import STDERR, format_clock, format_losses


class ChunkBar:
    """Two rich bars: frames committed in order across all workers, and chunks finished / running."""

    def __init__(self, total: int, committed: int, chunks: int, chunks_done: int, quiet: bool) -> None:
        self.total, self.committed = total, committed
        self.chunks, self.chunks_done = chunks, chunks_done
        self.started = time.perf_counter()
        self.progress = Progress(TextColumn("[bold]{task.description:>6}"), BarColumn(),
                                 TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                                 TextColumn("{task.fields[detail]}"), console=STDERR, disable=quiet)
        self.frame_task = self.progress.add_task("frames", total=total, completed=committed,
                                                 detail="resuming" if committed else "")
        self.chunk_task = self.progress.add_task("chunks", total=chunks, completed=chunks_done, detail="")

    def __enter__(self) -> "ChunkBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def running(self, tasks: int) -> None:
        """How many chunk tasks are in flight."""
        self.progress.update(self.chunk_task, detail=f"{tasks} running")

    def chunk_done(self) -> None:
        """One more chunk has streamed all its frames."""
        self.chunks_done += 1
        self.progress.update(self.chunk_task, completed=self.chunks_done)

    def frames(self, committed: int, computed: int, losses: dict[str, float]) -> None:
        """Frames committed in order so far; the rate counts the frames this run computed on all workers."""
        self.committed = committed
        elapsed = time.perf_counter() - self.started
        rate = computed / elapsed if elapsed > 0 else 0.0
        left = (self.total - committed) / rate if rate > 0 else None
        self.progress.update(self.frame_task, completed=committed,
                             detail=f"{rate:.2f} fps ETA {format_clock(left)}  {format_losses(losses)}")
