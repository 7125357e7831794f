"""JSON run reports (--report), written atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
