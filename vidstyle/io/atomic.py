"""Atomic output: write to a temporary file beside the target, then rename over it.

Every temporary file or folder of the tool is named ``.NAME.PID.TOKEN.TAG[.EXT]`` beside its target NAME
(TAG: part, video; EXT: the target's extension, kept so that OpenCV and ffmpeg recognise the format). The
process id lets a later run tell the stale leftovers of a run that is gone from the temporaries of a run still
in progress. TOKEN is vidstyle's mark: a hash of the rest of the name and of the inode number of the file or
folder vidstyle created under it, so a name alone (typed by a user, or a copy of a leftover) does not carry it.
``clean_stale_temps`` is the one clean-up rule: it removes only a regular file, or a folder of its own frames,
whose name and inode carry the mark and whose process is gone; never a link, never anything else.

Every commit (and every temporary made for one) first asks the path registry (path_registry.check_commit)
whether the target still names nothing the run reads: a folder on its way may have been swapped for a link
to an input while the run worked.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import VidstyleError
from .path_registry import check_commit

_UMASK = os.umask(0)
os.umask(_UMASK)
TEMP_TAGS = ("part", "video")
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[a-z0-9_]{8})\.(?P<rest>(?:%s)(?:\..*)?)$"
                        % "|".join(TEMP_TAGS))
# What FrameDirWriter (io/frames.py) writes into its temporary folder: all a stale one may hold that is removed.
_TEMP_FOLDER_FILE = re.compile(r"^frame_\d{6,}\.png$")


def check_output_path(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate OUTPUT before any work starts: parent folder exists and is writable, no silent clobbering."""
    out = Path(path)
    target = link_to_nothing(out)
    if target is not None and not overwrite:  # the commit would find the link's name taken
        raise VidstyleError(f"{out} already exists as a link to {target}, which does not exist; pass "
                            "--overwrite to replace the link")
    if out.exists() and not overwrite:
        raise VidstyleError(f"{out} already exists; pass --overwrite to replace it")
    check_parent_writable(out)
    return out


def link_to_nothing(path: Path) -> str | None:
    """Where ``path`` points when it is a symlink to nothing (Path.exists follows links and says False, yet
    the name is taken); None otherwise."""
    return os.readlink(path) if path.is_symlink() and not path.exists() else None


def check_parent_writable(out: Path) -> None:
    """The folder that will hold ``out`` (and its temporaries) exists and is writable."""
    parent = named(out).parent
    if not parent.is_dir():
        raise VidstyleError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise VidstyleError(f"output folder {parent} is not writable")


def named(path: str | os.PathLike) -> Path:
    """``path`` itself, or, when its last part is no name of its own ('.', './', '..', 'a/..'), the folder it
    names, resolved: what goes beside a target (its temporaries, a video's work directory) goes beside that
    folder, never inside it ('.' as a frame folder once staged its frames inside itself, then found it had
    "gained files"). The root folder stays '/' (no name: callers refuse it)."""
    p = Path(path)
    return p if p.name not in ("", "..") else p.resolve()


def _token(name: str, pid: int, rest: str, inode: int) -> str:
    blob = b"\0".join([b"vidstyle temporary", os.fsencode(name), str(pid).encode(), os.fsencode(rest),
                       str(inode).encode()])
    return base64.b32encode(hashlib.sha256(blob).digest()).decode().lower()[:8]


def temp_path(target: Path, tag: str = "part", *, directory: bool = False) -> Path:
    """Create and return an empty temporary file (or folder) beside ``target``, named and marked for the stale
    clean-up (see the module docstring)."""
    assert tag in TEMP_TAGS
    check_commit(target)  # not even a temporary goes into a folder that now leads to an input
    target = named(target)
    folder, pid = target.parent, os.getpid()
    rest = tag if directory else tag + target.suffix
    while True:
        # made under a random name, then renamed to carry the mark of its inode (a rename keeps the inode)
        if directory:
            made = tempfile.mkdtemp(prefix=f".{target.name}.{pid}.", suffix=f".{rest}", dir=folder)
        else:
            fd, made = tempfile.mkstemp(prefix=f".{target.name}.{pid}.", suffix=f".{rest}", dir=folder)
            os.close(fd)
        try:
            inode = os.lstat(made).st_ino
            final = os.path.join(folder, f".{target.name}.{pid}.{_token(target.name, pid, rest, inode)}.{rest}")
            if not os.path.lexists(final):  # never over an entry already there (a rename would replace it)
                os.rename(made, final)
                return Path(final)
        except BaseException:
            _remove_new(made, directory)
            raise
        _remove_new(made, directory)


def write_into(folder_fd: int, name: str, data: bytes, *, append: bool = False) -> None:
    """Write ``data`` to the entry ``name`` of the folder held open as ``folder_fd``: atomically (a marked
    temporary in that folder, then a rename inside it), or appended to the file. The folder is the one the
    caller opened, whatever its path names meanwhile: a path swapped for a link to an input never receives
    a byte (a check of the path followed by a write through it would leave that window open)."""
    if append:
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666, dir_fd=folder_fd)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return
    pid, rest = os.getpid(), "part" + os.path.splitext(name)[1]
    while True:  # made under a random name, then renamed to carry the mark of its inode, as temp_path does
        here = f".{name}.{pid}.{os.urandom(6).hex()}.new"
        fd = os.open(here, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK, dir_fd=folder_fd)
        try:
            final = f".{name}.{pid}.{_token(name, pid, rest, os.fstat(fd).st_ino)}.{rest}"
            if _entry_exists(final, folder_fd):  # never rename over an entry already there: try another
                os.unlink(here, dir_fd=folder_fd)
                continue
            os.rename(here, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            here = final
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.replace(final, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            return
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(here, dir_fd=folder_fd)
            raise
        finally:
            os.close(fd)


def _entry_exists(name: str, folder_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _remove_new(path: str, directory: bool) -> None:
    with contextlib.suppress(OSError):
        if directory:
            os.rmdir(path)
        else:
            os.unlink(path)


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


def is_own_temp(path: Path) -> bool:
    """True when ``path`` (not followed if a link) is a temporary vidstyle made: a regular file or a folder named
    ``.NAME.PID.TOKEN.TAG[.EXT]`` whose TOKEN is the mark of its own name and inode."""
    m = _TEMP_NAME.match(path.name)
    if m is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return False
    return m["token"] == _token(m["name"], int(m["pid"]), m["rest"], st.st_ino)


def clean_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporaries of runs that no longer exist (those of target ``name`` only, when given) from
    ``folder``: only what ``is_own_temp`` proves vidstyle made; those of running processes, links, look-alikes
    and every other file or folder are left alone."""
    removed: list[Path] = []
    if name in ("", ".."):  # the target '.' (or '..'): its temporaries are beside the folder it names
        target = named(Path(folder) / name)
        folder, name = target.parent, target.name
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for entry in names:
        m = _TEMP_NAME.match(entry)
        if m is None or (name is not None and m["name"] != name) or _alive(int(m["pid"])):
            continue
        path = Path(folder) / entry
        if not is_own_temp(path):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(os.lstat(path).st_mode):
                _remove_temp_folder(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def _remove_temp_folder(path: Path) -> None:
    """A stale temporary frame folder: the frames in it, then the folder; anything else in it (OSError) stays."""
    for entry in os.listdir(path):
        inner = path / entry
        if _TEMP_FOLDER_FILE.match(entry) and stat.S_ISREG(os.lstat(inner).st_mode):
            inner.unlink()
    path.rmdir()


def commit_file(tmp: Path, target: Path, *, replace: bool = True) -> None:
    """Move the finished ``tmp`` to ``target``: the one commit step of a file. The path registry checks the
    target again first (by what it names now), --overwrite or not. Without ``replace``, a target that appeared
    while the work ran (another run writing the same OUTPUT) is kept and VidstyleError raised: checked again
    at commit time, atomically where the file system has hard links."""
    check_commit(target)
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


def commit_output(tmp: Path, target: Path, *, replace: bool = True) -> None:
    """``commit_file`` for a finished output file made by ``temp_path``: it gets the usual permissions first."""
    if tmp.is_file():
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
    commit_file(tmp, target, replace=replace)


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
        commit_output(tmp, target, replace=replace)
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
