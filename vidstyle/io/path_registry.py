"""The path registry of a run: every file it reads and every path it writes, checked together before any work.

One rule set (docs/safety.md) for the image, video, frame-folder and live commands:

* a path is compared by what it names, not by how it is spelt: resolved through symlinks, and by
  (st_dev, st_ino) so that a hard link to an input is that input;
* no output may be an input, hold an input (an output folder), or lie inside an input folder, and no two
  outputs may be the same path or one inside the other;
* vidstyle writes only to regular files and folders: an existing target that is a device node, FIFO or
  socket is refused, --overwrite or not;
* an OUTPUT, --report or --record that is a vidstyle work directory, or lies inside one, is refused (another
  run's resumable frames would be mixed or lost);
* every name vidstyle will create (its temporary names included) must fit the file system's name limit;
* an input whose name looks like one of vidstyle's own temporary files in a folder the run cleans is refused
  (if it is a leftover of a killed run, the clean-up deletes it);
* the check is made again when a result is committed (``check_commit``, called by io/atomic.py's commit step,
  the frame-folder writer and the work directory): a folder on an output's path swapped for a link to an
  input while the run worked must not make the final rename replace that input, --overwrite or not.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import VidstyleError

# The file that marks a folder as a vidstyle work directory (vidstyle/video/workdir.py writes it).
WORK_MARKER = "vidstyle-work.json"
# The longest temporary name vidstyle makes beside a target NAME: ".NAME.PID.XXXXXXXX.video.EXT" (PID up to
# 7 digits on Linux, pid_max 4194304); io/atomic.py makes them.
_TEMP_EXTRA = len(".") + 7 + len("..XXXXXXXX.video.") + 1
DEFAULT_NAME_MAX = 255


@dataclass(frozen=True)
class Target:
    """A path a run writes: ``option`` names it in messages ('OUTPUT', '--report', ...); ``folder`` for a
    folder vidstyle fills (frame folder, work directory); ``cleaned``: the run removes stale temporaries
    of this target's name beside it."""

    option: str
    path: Path
    folder: bool | None = False  # None: either (a frame folder or a file, decided by what exists)
    cleaned: bool = True


@dataclass(frozen=True)
class _Known:
    option: str
    given: Path
    resolved: Path
    inode: tuple[int, int] | None


def _stat(option: str, path: Path, *, follow: bool = True) -> os.stat_result | None:
    """os.stat, None when the path does not exist; a name too long or unreadable is one line."""
    try:
        return path.stat() if follow else path.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise VidstyleError(f"{option} {_show(path)}: file name too long") from None
        if exc.errno == errno.ELOOP:
            raise VidstyleError(f"{option} {_show(path)}: too many levels of symbolic links") from None
        raise VidstyleError(f"{option} {_show(path)}: {exc.strerror or exc}") from None


def _show(path: Path) -> str:
    """A path for a message: printable even when its name is not valid UTF-8."""
    text = str(path)
    return text.encode("utf-8", "backslashreplace").decode() if not is_utf8(text) else text


def is_utf8(text: str) -> bool:
    """True when ``text`` (a path from the OS) is valid UTF-8, i.e. holds no undecodable bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _resolve(option: str, path: Path) -> Path:
    try:
        return path.resolve()
    except RuntimeError:  # a symlink loop (Python < 3.13)
        raise VidstyleError(f"{option} {_show(path)}: too many levels of symbolic links") from None
    except OSError as exc:
        raise VidstyleError(f"{option} {_show(path)}: {exc.strerror or exc}") from None


def _known(option: str, path: Path) -> _Known:
    st = _stat(option, path)
    return _Known(option, path, _resolve(option, path), (st.st_dev, st.st_ino) if st else None)


def name_max(folder: Path) -> int:
    """The longest file name the file system holding ``folder`` (or its nearest existing ancestor) accepts."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return int(os.pathconf(probe, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return DEFAULT_NAME_MAX


def _check_names(target: Target, resolved: Path) -> None:
    """The target's name and the temporary names beside it fit the file system's limit."""
    limit = name_max(resolved.parent)
    name = os.fsencode(resolved.name)
    longest = len(name) + _TEMP_EXTRA + len(os.fsencode(resolved.suffix))
    if target.option == "--work-dir":  # made with mkdir: no temporary name beside it
        longest = len(name)
    if len(name) > limit or longest > limit:
        raise VidstyleError(f"{target.option} name {resolved.name[:40]!r}... is {len(name)} bytes; vidstyle needs "
                            f"at most {max(1, limit - (longest - len(name)))} so that its temporary files "
                            f"beside it fit the file system's limit of {limit}")


def _kind_of(st: os.stat_result) -> str | None:
    """'device', 'FIFO' or 'socket' for what vidstyle never writes; None for files and folders."""
    mode = st.st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device node"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return None


def work_directory_of(path: Path) -> Path | None:
    """The vidstyle work directory ``path`` is, or lies inside (resolved); None if neither."""
    for folder in (path, *path.parents):
        with contextlib.suppress(OSError):
            if (folder / WORK_MARKER).is_file():
                return folder
    return None


def _inside(inner: Path, outer: Path) -> bool:
    return outer in inner.parents


def expand_inputs(option: str, path: str | os.PathLike) -> list[tuple[str, Path]]:
    """An input and, for a folder, every file in it (a frame folder's frames may be links to elsewhere)."""
    p = Path(path)
    items = [(option, p)]
    st = _stat(option, p)
    if st is not None and stat.S_ISDIR(st.st_mode):
        with contextlib.suppress(OSError):
            items += [(option, child) for child in p.iterdir() if not child.name.startswith(".")]
    return items


def check_run_paths(reads: Iterable[tuple[str, str | os.PathLike]], writes: Sequence[Target]) -> RunPaths:
    """Refuse any overlap between what a run reads and writes (see the module docstring), before any work;
    then register the run, so that its commits are checked again (``check_commit``).

    ``reads``: (option, path) of every file input; a folder input is expanded to the files in it.
    """
    from .atomic import temp_owner  # the temporary-name pattern lives with the code that makes the names

    inputs: list[_Known] = []
    for option, path in reads:
        for opt, p in expand_inputs(option, path):
            inputs.append(_known(opt, p))
            st = _stat(opt, p)
            what = _kind_of(st) if st is not None else None
            if what is not None:  # /dev/zero as --weights would be hashed forever
                raise VidstyleError(f"{opt} {_show(p)} is a {what}; vidstyle reads regular files and folders")
    outputs: list[tuple[Target, _Known]] = []
    for target in writes:
        outputs.append((target, _known(target.option, target.path)))
    for target, out in outputs:
        for source in inputs:
            same = out.resolved == source.resolved or (out.inode is not None and out.inode == source.inode)
            if same or _inside(out.resolved, source.resolved):
                raise VidstyleError(f"{target.option} {_show(target.path)} must differ from the input "
                                    f"{_show(source.given)} ({source.option}; it would be overwritten)")
            if _inside(source.resolved, out.resolved):
                raise VidstyleError(f"the input {_show(source.given)} ({source.option}) lies inside "
                                    f"{target.option} {_show(target.path)}; choose an {target.option} outside "
                                    "the inputs' folders")
            if target.cleaned and source.resolved.parent == out.resolved.parent \
                    and temp_owner(source.resolved.name) == out.resolved.name:
                raise VidstyleError(f"the input {_show(source.given)} is named like a temporary file of "
                                    f"{target.option} and would be cleaned up; rename it")
    for i, (first, a) in enumerate(outputs):
        for second, b in outputs[i + 1:]:
            if a.resolved == b.resolved or (a.inode is not None and a.inode == b.inode):
                raise VidstyleError(f"{second.option} and {first.option} are the same file {_show(second.path)}; "
                                    "choose different paths")
            for inner, outer in ((first, b), (second, a)):
                inner_known = a if inner is first else b
                if _inside(inner_known.resolved, outer.resolved):
                    outer_target = second if inner is first else first
                    raise VidstyleError(f"{inner.option} {_show(inner.path)} must not lie inside "
                                        f"{outer_target.option} {_show(outer_target.path)}")
    for target, known in outputs:
        _check_target(target, known)
    return _register(RunPaths(inputs, [(t.option, os.path.abspath(t.path)) for t in writes]))


class RunPaths:
    """What ``check_run_paths`` saw of one run: the identity of everything it reads (resolved path and
    (st_dev, st_ino), as they were before the work) and the outputs it writes (option, absolute path as
    spelt). Kept so that every commit into those outputs is checked again (``recheck``), in a time that does
    not grow with the number of inputs (a frame folder of thousands, checked at every frame)."""

    def __init__(self, inputs: Sequence[_Known], outputs: Sequence[tuple[str, str]]) -> None:
        self.outputs = tuple(outputs)
        self._by_path: dict[Path, _Known] = {}
        self._by_inode: dict[tuple[int, int], _Known] = {}
        self._above: dict[Path, _Known] = {}  # every folder above an input: an output folder there holds it
        for source in inputs:
            self._by_path.setdefault(source.resolved, source)
            if source.inode is not None:
                self._by_inode.setdefault(source.inode, source)
            for folder in source.resolved.parents:
                self._above.setdefault(folder, source)

    def recheck(self, option: str, target: Path) -> None:
        """Refuse ``target`` if what it names now (resolved through links, by inode, and by the inode of every
        folder on its way) is, lies inside or holds an input."""
        now = _known(option, target)
        source = self._by_path.get(now.resolved) or (self._by_inode.get(now.inode) if now.inode else None) \
            or next((self._by_path[p] for p in now.resolved.parents if p in self._by_path), None) \
            or next((self._by_inode[i] for i in _folder_inodes(now.resolved) if i in self._by_inode), None) \
            or self._above.get(now.resolved)
        if source is not None:
            raise VidstyleError(f"{option} {_show(target)} now leads to the input {_show(source.given)} "
                                f"({source.option}): its path changed while this run was working; nothing was "
                                "written there (--overwrite does not change that)")


# The latest run registered for each output path (absolute, as spelt), for every thread of the process: the
# work directory's frames are saved from a writer thread (video/stages.py). A later run of the same path
# replaces the entry, so this holds one entry per output path the process has used.
_RUNS: dict[str, tuple[str, RunPaths]] = {}
_RUNS_LOCK = threading.Lock()


def _register(run: RunPaths) -> RunPaths:
    with _RUNS_LOCK:
        for option, path in run.outputs:
            _RUNS[path] = (option, run)
    return run


def _folder_inodes(path: Path) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of every existing folder above ``path``."""
    found = set()
    for folder in path.parents:
        with contextlib.suppress(OSError):
            st = folder.stat()
            found.add((st.st_dev, st.st_ino))
    return found


def check_commit(target: str | os.PathLike) -> None:
    """Before vidstyle moves a finished file or folder to ``target`` (or makes a temporary beside it): when a
    registered run writes ``target`` or a folder holding it (OUTPUT, --report, a frame folder, the work
    directory), check it again against everything that run reads (``RunPaths.recheck``); VidstyleError if
    it now leads to one. Other paths (a downloaded checkpoint, a file written outside a run) pass."""
    spelt = os.path.abspath(target)
    with _RUNS_LOCK:
        found = [(len(path), entry) for path, entry in _RUNS.items()
                 if spelt == path or spelt.startswith(path.rstrip(os.sep) + os.sep)]
    if found:
        option, run = max(found, key=lambda item: item[0])[1]
        run.recheck(option, Path(target))


def _check_target(target: Target, known: _Known) -> None:
    """What one output path may be: a regular file or folder (or nothing yet), not inside a work directory."""
    st = _stat(target.option, known.resolved)
    if st is not None:
        what = _kind_of(st)
        if what is not None:
            raise VidstyleError(f"{target.option} {_show(target.path)} is a {what}; vidstyle writes only regular "
                                "files and folders (--overwrite does not change that)")
        if target.folder and not stat.S_ISDIR(st.st_mode):
            raise VidstyleError(f"{target.option} {_show(target.path)} exists and is not a directory")
        if target.folder is False and stat.S_ISDIR(st.st_mode):
            raise VidstyleError(f"{target.option} {_show(target.path)} is a directory; give a file name")
    _check_names(target, known.resolved)
    # a file cannot have children: an output "inside" an existing file (out.mp4/w) would fail after the work
    for parent in known.resolved.parents:
        pst = _stat(target.option, parent)
        if pst is None:
            continue
        if not stat.S_ISDIR(pst.st_mode):
            raise VidstyleError(f"{target.option} {_show(target.path)} lies inside {_show(parent)}, which is not a "
                                "directory")
        break
    if target.option == "--work-dir":
        inside = work_directory_of(known.resolved.parent)
        if inside is not None:
            raise VidstyleError(f"--work-dir {_show(target.path)} lies inside the vidstyle work directory "
                                f"{_show(inside)}; choose another --work-dir")
        return
    owner = work_directory_of(known.resolved)
    if owner is not None:
        raise VidstyleError(f"{target.option} {_show(target.path)} is "
                            + ("a vidstyle work directory" if owner == known.resolved else
                               f"inside the vidstyle work directory {_show(owner)}")
                            + "; choose a path outside it")


@contextlib.contextmanager
def opencv_name(path: Path) -> Iterator[str]:
    """A name OpenCV's C++ can open for ``path``: the path itself when it is safe, else a symlink with a safe
    name in a private temporary folder (removed on exit; OpenCV keeps the file open once opened).

    OpenCV converts a Python path to UTF-8 and crashed (SIGSEGV) on names with undecodable bytes; FFmpeg
    reads a name with a colon (``take:2.mp4``) as a protocol and could not open it."""
    text = str(path)
    if is_utf8(text) and ":" not in text:
        yield text
        return
    folder = tempfile.mkdtemp(prefix="vidstyle-name-")
    try:
        suffix = path.suffix if is_utf8(path.suffix) and ":" not in path.suffix else ""
        link = os.path.join(folder, "input" + suffix)
        os.symlink(os.path.abspath(path), link)
        yield link
    finally:
        shutil.rmtree(folder, ignore_errors=True)
