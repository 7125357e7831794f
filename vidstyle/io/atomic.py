"""Atomic output: write to a temporary file beside the target, then rename over it.

Every temporary file or folder of the tool is named ``.NAME.PID.XXXXXXXX.TAG[.EXT]`` beside its target NAME
(TAG: part, video; EXT: the target's extension, kept so that OpenCV and ffmpeg recognise the format). The
process id lets a later run tell its own stale leftovers (their process is gone) from the temporary files of
a run still in progress: ``clean_stale_temps`` removes only the former.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import VidstyleError

_UMASK = os.umask(0)
os.umask(_UMASK)
TEMP_TAGS = ("part", "video")
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.(?:%s)(?:\..*)?$" % "|".join(TEMP_TAGS))


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate OUTPUT before any work starts: parent folder exists and is writable, no silent clobbering."""
    out = Path(path)
    if out.exists() and not overwrite:
        raise VidstyleError(f"{out} already exists; pass --overwrite to replace it")
    check_parent_writable(out)
    return out


def check_parent_writable(out: Path) -> None:
    """The folder that will hold ``out`` exists and is writable."""
    parent = _parent(out)
    if not parent.is_dir():
        raise VidstyleError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise VidstyleError(f"output folder {parent} is not writable")


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def temp_path(target: Path, tag: str = "part", *, directory: bool = False) -> Path:
    """Create and return an empty temporary file (or folder) beside ``target``, named for stale cleanup."""
    assert tag in TEMP_TAGS
    prefix, suffix = f".{target.name}.{os.getpid()}.", f".{tag}{'' if directory else target.suffix}"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=_parent(target)))
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=_parent(target))
    os.close(fd)
    return Path(name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: the process exists but belongs to someone else
        return True
    return True


def clean_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files and folders of runs that no longer exist (those of ``name`` only, when
    given) from ``folder``; temporary files of running processes and every other file are left alone."""
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            m = _TEMP_NAME.match(p.name)
            if m is None or (name is not None and m["name"] != name) or _alive(int(m["pid"])):
                continue
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                removed.append(p)
    return removed


def commit_file(tmp: Path, target: Path, *, replace: bool = True) -> None:
    """Move the finished ``tmp`` to ``target``. Without ``replace``, a target that appeared while the work
    ran (another run writing the same OUTPUT) is kept and VidstyleError raised: checked again at commit time,
    atomically where the file system has hard links."""
    if replace:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target exists: no window between the check and the rename
    except FileExistsError:
        raise VidstyleError(f"{target} appeared while this run was working (another run?); it was kept, "
                            "pass --overwrite to replace it") from None
    except OSError:  # no hard links on this file system: check, then rename
        if target.exists():
            raise VidstyleError(f"{target} appeared while this run was working (another run?); it was kept, "
                                "pass --overwrite to replace it") from None
        os.replace(tmp, target)
        return
    tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success move it to ``path``, else delete it.

    ``replace=False`` refuses (VidstyleError) a target that exists at commit time. The temporary name keeps
    the target's extension so tools that sniff it (OpenCV, ffmpeg) work.
    """
    target = Path(path)
    tmp = temp_path(target)
    try:
        yield tmp
        if tmp.is_file():
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
        commit_file(tmp, target, replace=replace)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def default_dir_mode() -> int:
    """Permissions of a newly made folder under the current umask (mkdtemp makes 0700)."""
    return 0o777 & ~_UMASK


def temp_owner(name: str) -> str | None:
    """The target NAME a temporary file name ``.NAME.PID.XXXXXXXX.TAG[.EXT]`` belongs to; None for other names."""
    m = _TEMP_NAME.match(name)
    return m["name"] if m else None


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
