"""Progress of a video run: the rich frame bar (frame i/N, frames per second, ETA, last losses) and the report."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from rich.progress import BarColumn, Progress, TextColumn

from ..errors import VidstyleError
from ..io.atomic import atomic_path
from ..progress import STDERR, format_losses


@dataclass
class FrameUpdate:
    """What the ``progress`` callback of ``stylize_video`` receives after each computed frame."""

    index: int  # 0-based position of the frame in the output
    total: int | None  # expected number of output frames (None when the container does not say)
    computed: int  # frames computed by this run so far (resumed frames not counted)
    iterations: int
    losses: dict[str, float]
    seconds: float


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class FrameBar:
    """A rich bar over frames on stderr; the ETA uses the average time of the frames computed in this run."""

    def __init__(self, total: int | None, done: int, quiet: bool) -> None:
        self.total, self.done, self.computed = total, done, 0
        self.started = time.perf_counter()
        self.progress = Progress(TextColumn("[bold]frame {task.fields[frame]}"), BarColumn(),
                                 TextColumn("{task.fields[rate]} ETA {task.fields[eta]}"),
                                 TextColumn("{task.fields[detail]}"), console=STDERR, disable=quiet)
        self.task = self.progress.add_task("frames", total=total, completed=done, frame=self._frame_text(),
                                           rate="", eta=_clock(None), detail="resuming" if done else "")
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
                             eta=_clock(left), detail=format_losses(losses))

    def set_total(self, total: int) -> None:
        """The real frame count, once the input has been read to its end."""
        self.total = total
        self.progress.update(self.task, total=total, frame=self._frame_text())


def build_report(*, config: Any, device: str, input_path: str, style: list[str], output: str, kinds: dict[str, str],
                 video: dict[str, Any], records: dict[int, dict[str, Any]], frames: int, computed: int,
                 wall_seconds: float) -> dict[str, Any]:
    """The JSON report: settings, device, per-frame iterations/losses/seconds and totals."""
    per_frame = [{"index": i, **records.get(i, {"resumed": True})} for i in range(frames)]
    seconds = sum(r.get("seconds", 0.0) for r in per_frame)
    return {
        "input": input_path, "style": style, "output": output, "kinds": kinds, "device": device,
        "settings": dataclasses.asdict(config), "video": video, "frames": per_frame,
        "totals": {"frames": frames, "computed_this_run": computed, "resumed": frames - computed,
                   "iterations": sum(r.get("iterations", 0) for r in per_frame),
                   "stylize_seconds": seconds, "seconds_per_frame": seconds / frames if frames else 0.0,
                   "wall_seconds_this_run": wall_seconds,
                   "final_losses": per_frame[-1].get("losses", {}) if per_frame else {}},
    }


@contextlib.contextmanager
def staged_report(path: str | os.PathLike | None, report: dict[str, Any], *, replace: bool = True) -> Iterator[None]:
    """Write the report as JSON to a temporary file first, run the block (which commits OUTPUT), then move
    the report into place: a report that cannot be written (disk full) fails before OUTPUT exists, so
    running the same command again needs no --overwrite. ``path`` None: no report."""
    if path is None:
        yield
        return
    p = Path(path)
    inside = False
    try:
        with atomic_path(p, replace=replace) as tmp:
            tmp.write_text(json.dumps(report, indent=2, default=str))
            inside = True
            yield
            inside = False
    except OSError as exc:
        if inside:  # the block's own error, not the report's
            raise
        raise VidstyleError(f"cannot write report {p}: {exc.strerror or exc}") from None
