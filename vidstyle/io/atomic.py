"""Atomic output: write to a temporary file beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import VidstyleError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate OUTPUT before any work starts: parent folder exists and is writable, no silent clobbering."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise VidstyleError(f"{out} already exists; pass --overwrite to replace it")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise VidstyleError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise VidstyleError(f"output folder {parent} is not writable")
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``, else delete it.

    The temporary name keeps the target's extension so tools that sniff it (OpenCV, ffmpeg) work.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}",
                                    dir=target.parent if str(target.parent) else ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.is_file():
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
