"""Atomic output: write to a temporary file beside the target, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import VidstyleError

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate OUTPUT before any work starts: parent folder exists and is writable, no silent clobbering."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise VidstyleError(f"{out} already exists; pass --overwrite to replace it")
    check_parent_writable(out)
    return out


def check_parent_writable(out: Path) -> None:
    """The folder that will hold ``out`` exists and is writable."""
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise VidstyleError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise VidstyleError(f"output folder {parent} is not writable")


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


def check_distinct(outputs: dict[str, str | os.PathLike | None], inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output that is an input, lies inside an input folder, or is the same file as another output.

    ``outputs`` maps a name for the message ('OUTPUT', '--report', ...) to a path (None = not requested).
    """
    sources = [Path(p).resolve() for p in inputs]
    taken: dict[Path, str] = {}
    for name, path in outputs.items():
        if path is None:
            continue
        target = Path(path).resolve()
        for source in sources:
            if target == source or source in target.parents:
                raise VidstyleError(f"{name} {path} must differ from the input {source.name} (it would be overwritten)")
        if target in taken:
            raise VidstyleError(f"{name} and {taken[target]} are the same file {path}; choose different paths")
        taken[target] = name


class CommitOnSuccess:
    """Context-manager protocol for writers: ``close()`` (commit) on success, ``abort()`` on any error."""

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):  # noqa: ANN204 - returns the writer itself
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
