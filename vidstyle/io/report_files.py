"""JSON run report files (--report), written atomically or staged before the output is committed; what a report
holds is built by the pipelines (vidstyle/progress/video_report.py, vidstyle/still.py, vidstyle/live/summary.py)."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from ..errors import VidstyleError
from .atomic import atomic_path


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    """Write ``report`` as indented JSON in one rename; VidstyleError (one line) if it cannot be written."""
    p = Path(path)
    try:
        with atomic_path(p) as tmp:
            tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    except OSError as exc:
        raise VidstyleError(f"cannot write report {p}: {exc.strerror or exc}") from None


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
