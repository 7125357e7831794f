"""Directories of frames: list in natural order, stream them in, write PNG frames out.

Mixed sizes are refused, not silently resized: every frame must have the first frame's size (a stray
thumbnail in a frame folder is almost always a mistake). The sizes are checked up front from the file
headers (PNG, JPEG; other formats are decoded), so a run never stops half-way for that reason.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import struct
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import VidstyleError
from .atomic import CommitOnSuccess, check_parent_writable, default_dir_mode, link_to_nothing, named, temp_path
from .images import IMAGE_EXTENSIONS, encode_image, read_image, resize_long_side
from .path_registry import check_commit

FRAME_NAME = "frame_{:06d}.png"
_OWN_FRAME = re.compile(r"^frame_\d{6,}\.png$")


def natural_key(name: str) -> tuple[list[tuple[int, int, str]], str]:
    """Sort key that orders embedded numbers by value (f2 < f10), text case-insensitively, ties by name."""
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
             for part in re.split(r"(\d+)", name) if part]
    return parts, name


def list_frames(directory: str | os.PathLike) -> list[Path]:
    """Image files of a directory (not hidden, not recursive) in natural order; VidstyleError if none."""
    d = Path(directory)
    if not d.is_dir():
        raise VidstyleError(f"frame directory not found: {d}")
    files = [p for p in d.iterdir()
             if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not files:
        raise VidstyleError(f"directory {d} contains no images ({', '.join(IMAGE_EXTENSIONS)})")
    return sorted(files, key=lambda p: natural_key(p.name))


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header without decoding, as the decoder will deliver it (a JPEG's
    EXIF orientation 5-8 turns it by 90 degrees, as OpenCV does); None when not parseable."""
    with path.open("rb") as f:
        head = f.read(24)
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            w, h = struct.unpack(">II", head[16:24])
            return int(w), int(h)
        if head[:2] != b"\xff\xd8":
            return None
        f.seek(2)
        turned = False
        while True:
            marker = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return None
            while marker[1] == 0xFF:  # fill bytes
                marker = marker[1:] + f.read(1)
            code = marker[1]
            if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
                continue
            length_bytes = f.read(2)
            if len(length_bytes) < 2:
                return None
            (length,) = struct.unpack(">H", length_bytes)
            if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):  # start of frame
                data = f.read(5)
                if len(data) < 5:
                    return None
                h, w = struct.unpack(">HH", data[1:5])
                return (int(h), int(w)) if turned else (int(w), int(h))
            if code == 0xE1:  # APP1: EXIF orientation
                segment = f.read(length - 2)
                turned = turned or _exif_orientation(segment) in (5, 6, 7, 8)
                continue
            f.seek(length - 2, os.SEEK_CUR)


def _exif_orientation(segment: bytes) -> int | None:
    """The orientation tag (0x0112) of an APP1 EXIF segment; None when absent or unreadable."""
    if not segment.startswith(b"Exif\0\0") or len(segment) < 14:
        return None
    tiff = segment[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    try:
        (offset,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[offset:offset + 2])
        for i in range(count):
            entry = tiff[offset + 2 + 12 * i: offset + 14 + 12 * i]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag == 0x0112:
                return struct.unpack(order + "H", entry[8:10])[0] if kind == 3 else None
    except struct.error:
        return None
    return None


def frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header when possible."""
    size = _header_size(path)
    if size is None or 0 in size:
        h, w = read_image(path).shape[:2]
        size = (w, h)
    return size


def check_frame_sizes(files: list[Path]) -> tuple[int, int]:
    """Refuse a folder whose frames differ in size; return the common (width, height)."""
    expected = frame_size(files[0])
    for p in files[1:]:
        size = frame_size(p)
        if size != expected:
            raise VidstyleError(f"frame {p.name} is {size[0]}x{size[1]} but {files[0].name} is "
                                f"{expected[0]}x{expected[1]}; all frames in a directory must have the same size")
    return expected


def iter_frame_dir(directory: str | os.PathLike, *, start: int = 0, max_frames: int | None = None,
                   size: int | None = None, even: bool = False) -> Iterator[np.ndarray]:
    """Yield the directory's frames (natural order) as RGB uint8, one at a time, optionally resized (``even``:
    to even sides, images.fitted_size).

    ``start`` skips that many frames first. Every frame must have the first frame's size.
    """
    files = list_frames(directory)
    check_frame_sizes(files)
    stop = len(files) if max_frames is None else min(len(files), start + max_frames)
    if start >= stop:
        raise VidstyleError(f"directory {directory} has no frames in the requested range")
    for p in files[start:stop]:
        yield resize_long_side(read_image(p), size, even=even)


def check_output_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Validate an output frame directory before work starts (a non-empty one needs ``overwrite``)."""
    out = Path(path)
    target = link_to_nothing(out)
    if target is not None:
        raise VidstyleError(f"{out} is a link to {target}, which does not exist; remove the link or give another "
                            "folder")
    if out.exists():
        if not out.is_dir():
            raise VidstyleError(f"{out} exists and is not a directory")
        if any(out.iterdir()) and not overwrite:
            shown = out if named(out) == out else f"{out} (the folder {named(out)})"  # '.' says which folder
            raise VidstyleError(f"{shown} already exists and is not empty; pass --overwrite to replace the frames "
                                "vidstyle wrote there (other files are kept)")
    check_parent_writable(out)
    return out


class FrameDirWriter(CommitOnSuccess):
    """Write frames as frame_000001.png, ... into a hidden temporary folder beside the target; ``close()``
    moves them into place.

    A new target appears in one rename. An existing target folder (``replace``: --overwrite) is never
    removed as a whole: only the frames a run wrote there before (recognised by their names) are replaced,
    and every other file or sub-folder in it stays. Without ``replace`` a target that gained content while
    the work ran is kept and VidstyleError raised.
    """

    def __init__(self, path: str | os.PathLike, *, replace: bool = True) -> None:
        self.path = Path(path)
        self.replace = replace
        try:
            self._tmp = temp_path(self.path, directory=True)
        except OSError as exc:
            raise VidstyleError(f"cannot write to {self.path.parent}: {exc.strerror or exc}") from None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame as a lossless PNG."""
        self.frames += 1
        try:
            (self._tmp / FRAME_NAME.format(self.frames)).write_bytes(encode_image(frame, ".png"))
        except OSError as exc:
            raise VidstyleError(f"cannot write frames to {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Move the finished frames into place."""
        if self.frames == 0:
            self.abort()
            raise VidstyleError(f"no frames to write to {self.path}")
        try:
            check_commit(self.path)  # the registry's re-check: the folder may now lead to an input
            if not self.path.exists() and self._moved_whole():
                return
            if not self.replace and any(self.path.iterdir()):
                raise VidstyleError(f"{self.path} gained files while this run was working (another run?); it "
                                    "was kept, pass --overwrite to replace its frames")
            for old in own_frames(self.path):
                old.unlink()
            for i in range(1, self.frames + 1):
                os.replace(self._tmp / FRAME_NAME.format(i), self.path / FRAME_NAME.format(i))
        except OSError as exc:
            self.abort()
            raise VidstyleError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            self.abort()
            raise
        self.abort()  # the emptied temporary folder

    def _moved_whole(self) -> bool:
        """The temporary folder renamed to the target in one step; False when a folder with files took that
        name since the check (another run, the user), which ``close`` then treats as an existing target, so
        that a race loses neither those files nor this run's frames."""
        os.chmod(self._tmp, default_dir_mode())  # mkdtemp makes 0700; outputs get the usual mode
        try:
            os.rename(self._tmp, self.path)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise
        return True

    def abort(self) -> None:
        """Delete the temporary folder; the target is untouched."""
        with contextlib.suppress(OSError):
            shutil.rmtree(self._tmp)


def own_frames(directory: Path) -> list[Path]:
    """The frames vidstyle writes into an output folder (frame_000001.png, ...), recognised by name."""
    return [p for p in directory.iterdir() if _OWN_FRAME.match(p.name) and p.is_file() and not p.is_symlink()]
