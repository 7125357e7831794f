"""Resumable work directory of a video run: finished frames as lossless PNG plus a settings fingerprint.

Layout::

    WORK/vidstyle-work.json   {"fingerprint": ..., "settings": {...}}  (written first; marks the folder as ours)
    WORK/frame_000001.png     stylized frames, each written atomically (temporary file, then rename)
    WORK/frames.jsonl         one JSON line per finished frame (iterations, losses, seconds), written
                              before the frame's PNG
    WORK/vidstyle.lock        flock of the run using the folder (its process id)

A frame counts as finished when its PNG exists; a run resumes at the first missing one.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VidstyleError
from ..io.atomic import atomic_path, clean_stale_temps, write_into
from ..io.frames import FRAME_NAME, own_frames
from ..io.images import encode_image, read_image
from ..io.path_registry import WORK_MARKER, check_commit

MARKER = WORK_MARKER  # the path registry (io/path_registry.py) refuses outputs in a folder that has one
LOG = "frames.jsonl"
LOCK = "vidstyle.lock"
STAGING = "chunks"  # distributed runs: one work directory per chunk in here (vidstyle.distributed)


def fingerprint(settings: dict[str, Any]) -> str:
    """Stable hash of the settings that determine the stylized frames."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    """Content hash of a file (so an edited style image or input invalidates old frames)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class WorkDir:
    """Finished frames of one run, reusable by a later run with the same settings.

    The folder is locked (an flock on WORK/vidstyle.lock, holding the owner's process id) from opening until
    ``release()`` or ``clear()``: a second run on the same work directory stops with VidstyleError naming
    the first instead of deleting or mixing its frames. The kernel drops the lock when a run dies.
    """

    def __init__(self, path: str | os.PathLike, settings: dict[str, Any], *, overwrite: bool = False,
                 lock: bool = True) -> None:
        """``lock=False``: a folder inside a work directory whose lock this run already holds (Ray chunks)."""
        self.path = Path(path)
        self.settings = settings
        self._locking = lock
        self.fingerprint = fingerprint(settings)
        self._lock_fd: int | None = None
        self._folder: tuple[int, int] | None = None  # (st_dev, st_ino) of the folder this run opened
        self._open(overwrite)
        self.records = self._read_log()

    def _open(self, overwrite: bool) -> None:
        marker = self.path / MARKER
        if self.path.exists() and not self.path.is_dir():
            raise VidstyleError(f"work directory {self.path} exists and is not a directory")
        if self.path.is_dir():
            # half-written frames of a killed run, or its marker if it was killed while writing that (the
            # folder would look foreign otherwise); only temporaries of processes that are gone are removed
            clean_stale_temps(self.path)
        if self.path.is_dir() and not marker.is_file() and any(p.name != LOCK for p in self.path.iterdir()):
            raise VidstyleError(f"{self.path} is not empty and is not a vidstyle work directory; "
                                "choose another --work-dir")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()
            created = True
        except FileExistsError:
            created = False
        except OSError as exc:
            raise VidstyleError(f"cannot create work directory {self.path}: {exc.strerror or exc}") from None
        try:
            st = self.path.stat()
            self._folder = (st.st_dev, st.st_ino)
            self._lock()
        except BaseException:
            if created:  # nobody else can be using a folder this run just made and could not lock
                with contextlib.suppress(OSError):
                    self.path.rmdir()
            raise
        try:
            if marker.is_file():
                try:
                    old = json.loads(marker.read_text()).get("fingerprint")
                except (OSError, ValueError, AttributeError):
                    old = None
                if old == self.fingerprint:
                    return
                if not overwrite:
                    raise VidstyleError(f"work directory {self.path} holds frames made with different settings; "
                                        "pass --overwrite to start over or choose another --work-dir")
                _remove_own_files(self.path)
            with atomic_path(marker) as tmp:
                tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "settings": self.settings},
                                          indent=2, default=str))
        except BaseException as exc:
            if created:
                self.clear()
            else:
                self.release()
            if isinstance(exc, OSError):
                raise VidstyleError(f"cannot create work directory {self.path}: {exc.strerror or exc}") from None
            raise

    def _lock(self) -> None:
        """Take the folder's lock or raise VidstyleError naming the run that holds it."""
        if not self._locking:
            return
        path = self.path / LOCK
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:  # full disk (no inode left), read-only folder, ...
                raise VidstyleError(f"cannot create the lock of work directory {self.path}: "
                                    f"{exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = os.read(fd, 32).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise VidstyleError(f"work directory {self.path} is in use by another vidstyle run (process {other}); "
                                    "wait for it to finish or choose another --work-dir") from None
            # the previous owner may have removed the lock file between our open and flock: retry on a new one
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk: give the lock up and leave no lock file behind
            with contextlib.suppress(OSError):
                os.unlink(path)
            os.close(fd)
            raise VidstyleError(f"cannot write the lock of work directory {self.path}: "
                                f"{exc.strerror or exc}") from None
        self._lock_fd = fd

    def release(self) -> None:
        """Give up the lock; the frames stay for a later run."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                held, there = os.fstat(self._lock_fd), os.stat(self.path / LOCK)
                if (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino):  # our lock file, nobody else's
                    os.unlink(self.path / LOCK)  # while still held, so a waiting run retries on a fresh file
            os.close(self._lock_fd)
            self._lock_fd = None

    def _still_ours(self) -> bool:
        """The path still names the folder this run opened (not a folder swapped in for it meanwhile)."""
        try:
            return self._is_opened(self.path.stat())
        except OSError:
            return False

    def _is_opened(self, st: os.stat_result) -> bool:
        return self._folder == (st.st_dev, st.st_ino)

    def frame_path(self, index: int) -> Path:
        """PNG of frame ``index`` (0-based)."""
        return self.path / FRAME_NAME.format(index + 1)

    def finished(self) -> int:
        """Number of leading frames already finished (0, 1, 2, ... without a gap)."""
        n = 0
        while self.frame_path(n).is_file():
            n += 1
        return n

    def kept_frames(self) -> int:
        """Finished frames plus the chunk frames a distributed run has staged (what a rerun reuses)."""
        staging = self.path / STAGING
        staged = sum(1 for f in staging.glob("*/frame_*.png")) if staging.is_dir() else 0
        return self.finished() + staged

    def load(self, index: int) -> np.ndarray:
        """A finished frame, exactly as it was computed (lossless)."""
        try:
            return read_image(self.frame_path(index))
        except VidstyleError as exc:  # written atomically by us: damaged from outside
            raise VidstyleError(f"{exc}; the work directory {self.path} is damaged: pass --overwrite to start "
                                "over") from None

    def save(self, index: int, image: np.ndarray, record: dict[str, Any]) -> None:
        """Store a finished frame's log record, then the frame (atomically): a kill between the two leaves
        a record without a frame, which the next run overwrites, never a frame without its record. Nothing is
        written once the folder is not the one this run opened, or leads to an input (the path registry). The
        folder is opened and checked first, and both are written into what was opened: a swap of the path
        after the check reaches nothing but this run's own folder."""
        folder = self._open_ours()
        try:
            check_commit(self.frame_path(index))
            line = json.dumps({"index": index, **record}) + "\n"
            write_into(folder, LOG, line.encode(), append=True)
            write_into(folder, self.frame_path(index).name, encode_image(image, ".png"))
        except OSError as exc:
            raise VidstyleError(f"cannot write to work directory {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(folder)
        self.records[index] = record

    def _open_ours(self) -> int:
        """A descriptor of the folder the path names now, when it is the one this run opened."""
        try:
            folder = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            folder = None
        if folder is not None:
            if self._is_opened(os.fstat(folder)):
                return folder
            os.close(folder)
        raise VidstyleError(f"work directory {self.path} was replaced while this run was working; nothing was "
                            "written there")

    def _read_log(self) -> dict[int, dict[str, Any]]:
        """Records of the finished frames (a later line for the same frame wins: it was recomputed)."""
        records: dict[int, dict[str, Any]] = {}
        log = self.path / LOG
        if log.is_file():
            for line in log.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                    entry = json.loads(line)
                    records[int(entry.pop("index"))] = entry
        return records

    def clear(self) -> None:
        """Delete what a run put here (frames, log, marker, lock, chunk staging) and the folder itself if then
        empty; nothing when the path no longer names the folder this run opened."""
        if not self._still_ours():
            self.release()
            return
        with contextlib.suppress(OSError):
            _remove_own_files(self.path)
            _clear_staging(self.path / STAGING)
        self.release()
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _remove_own_files(path: Path) -> None:
    """A work directory's own files: frames, marker, log and the tool's stale temps (never anything else)."""
    for p in [*own_frames(path), path / MARKER, path / LOG]:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    clean_stale_temps(path)


def _clear_staging(staging: Path) -> None:
    """Distributed runs' per-chunk work directories (each recognised by its marker), then the staging folder."""
    if not staging.is_dir():
        return
    for sub in staging.iterdir():
        if sub.is_dir() and (sub / MARKER).is_file():
            _remove_own_files(sub)
            with contextlib.suppress(FileNotFoundError):
                (sub / LOCK).unlink()
            with contextlib.suppress(OSError):
                sub.rmdir()
    with contextlib.suppress(OSError):
        staging.rmdir()
