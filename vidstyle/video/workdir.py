"""Resumable work directory of a video run: finished frames as lossless PNG plus a settings fingerprint.

Layout::

    WORK/vidstyle-work.json   {"fingerprint": ..., "settings": {...}}  (written first; marks the folder as ours)
    WORK/frame_000001.png     stylized frames, each written atomically (temporary file, then rename)
    WORK/frames.jsonl         one JSON line per finished frame (iterations, losses, seconds)

A frame counts as finished when its PNG exists; a run resumes at the first missing one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VidstyleError
from ..io.atomic import atomic_path
from ..io.frames import FRAME_NAME
from ..io.images import read_image, write_image

MARKER = "vidstyle-work.json"
LOG = "frames.jsonl"
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
    """Finished frames of one run, reusable by a later run with the same settings."""

    def __init__(self, path: str | os.PathLike, settings: dict[str, Any], *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.settings = settings
        self.fingerprint = fingerprint(settings)
        self._open(overwrite)
        self.records = self._read_log()

    def _open(self, overwrite: bool) -> None:
        marker = self.path / MARKER
        if self.path.exists():
            if not self.path.is_dir():
                raise VidstyleError(f"work directory {self.path} exists and is not a directory")
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
                self.clear()
            elif any(self.path.iterdir()):
                raise VidstyleError(f"{self.path} is not empty and is not a vidstyle work directory; "
                                    "choose another --work-dir")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with atomic_path(marker) as tmp:
                tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "settings": self.settings},
                                          indent=2, default=str))
        except OSError as exc:
            raise VidstyleError(f"cannot create work directory {self.path}: {exc.strerror or exc}") from None

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
        return read_image(self.frame_path(index))

    def save(self, index: int, image: np.ndarray, record: dict[str, Any]) -> None:
        """Store a finished frame (atomically) and its log record."""
        try:
            write_image(self.frame_path(index), image)
            with (self.path / LOG).open("a") as f:
                f.write(json.dumps({"index": index, **record}) + "\n")
        except OSError as exc:
            raise VidstyleError(f"cannot write to work directory {self.path}: {exc.strerror or exc}") from None
        self.records[index] = record

    def _read_log(self) -> dict[int, dict[str, Any]]:
        records: dict[int, dict[str, Any]] = {}
        log = self.path / LOG
        if log.is_file():
            for line in log.read_text().splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    entry = json.loads(line)
                    records[int(entry.pop("index"))] = entry
        return records

    def clear(self) -> None:
        """Delete what a run put here (frames, log, marker, chunk staging) and the folder itself if then empty."""
        staging = self.path / STAGING
        if staging.is_dir():
            for sub in staging.iterdir():
                if sub.is_dir() and (sub / MARKER).is_file():
                    _clear_files(sub)
            with contextlib.suppress(OSError):
                staging.rmdir()
        _clear_files(self.path)


def _clear_files(path: Path) -> None:
    """Delete a work directory's own files (frames, log, marker, partial frames), then the folder if empty."""
    for p in path.iterdir():
        ours = p.name.startswith("frame_") or (p.name.startswith(".frame_") and ".part" in p.name)
        if p.is_file() and (p.name in (MARKER, LOG) or (ours and p.suffix == ".png")):
            p.unlink()
    with contextlib.suppress(OSError):
        path.rmdir()
