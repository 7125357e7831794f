"""io safety: input/output overlap both ways, stale temporary files, no-clobber at commit time, and one
image reader for OpenCV's warnings and errors."""
from __future__ import annotations

import os
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from vidstyle.errors import VidstyleError
from vidstyle.io.atomic import atomic_path, clean_stale_temps, temp_path
from vidstyle.io.frames import FrameDirWriter
from vidstyle.io.images import encode_image, read_image, write_image
from tests.helpers import smooth_image


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temps_of_dead_runs_are_removed_others_kept(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid = dead_pid()
        stale = [tmp_path / f".out.mp4.{pid}.abcdefgh.video.mp4", tmp_path / f".out.mp4.{pid}.abcd_fgh.part.mp4"]
        (tmp_path / f".out.{pid}.abcdefgh.part").mkdir()  # a frame folder's
        stale.append(tmp_path / f".out.{pid}.abcdefgh.part")
        kept = [tmp_path / f".out.mp4.{live.pid}.abcdefgh.part.mp4",  # a run still working
                tmp_path / f".other.mp4.{pid}.abcdefgh.part.mp4",  # another OUTPUT's
                tmp_path / ".out.mp4.notes", tmp_path / "out.mp4"]
        for p in stale[:2] + kept:
            p.write_bytes(b"x")
        removed = clean_stale_temps(tmp_path, "out.mp4") + clean_stale_temps(tmp_path, "out")
        assert sorted(removed) == sorted(stale)
        assert all(p.exists() for p in kept) and not any(p.exists() for p in stale)
    finally:
        live.kill()
        live.wait()


def test_temp_names_carry_the_pid_and_the_extension(tmp_path):
    tmp = temp_path(tmp_path / "o.png")
    assert tmp.name.startswith(f".o.png.{os.getpid()}.") and tmp.name.endswith(".part.png")
    assert clean_stale_temps(tmp_path) == [] and tmp.exists()  # our own: alive


def test_no_clobber_is_checked_again_at_commit_time(tmp_path):
    target = tmp_path / "o.png"
    with pytest.raises(VidstyleError, match="appeared while this run was working"):
        with atomic_path(target, replace=False) as tmp:
            tmp.write_bytes(b"mine")
            target.write_bytes(b"theirs")  # another run committed meanwhile
    assert target.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["o.png"]


def test_new_frame_folder_gets_the_usual_mode(tmp_path):
    with FrameDirWriter(tmp_path / "out") as w:
        w.write(smooth_image(8, 8))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask


def png_header_only(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_opencv_pixel_limit_is_one_clear_error(tmp_path):
    with pytest.raises(VidstyleError, match="more pixels than OpenCV's limit"):
        read_image(png_header_only(tmp_path / "huge.png", 40000, 40000))


def test_truncated_png_is_one_line_without_opencv_warning(tmp_path, capfd):
    data = encode_image(smooth_image(64, 64), ".png")
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(VidstyleError, match="cannot decode image"):
        read_image(tmp_path / "t.png")
    captured = capfd.readouterr()
    assert "WARN" not in captured.err + captured.out


def test_alpha_channel_is_noted_once_per_folder(tmp_path, capfd):
    import cv2

    rgba = np.dstack([smooth_image(8, 8), np.full((8, 8), 100, np.uint8)])
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), rgba)
    write_image(tmp_path / "c.png", smooth_image(8, 8))
    assert read_image(tmp_path / "a.png").shape == (8, 8, 3)
    read_image(tmp_path / "b.png")
    read_image(tmp_path / "c.png")
    err = capfd.readouterr().err
    assert err.count("alpha channel") == 1 and "a.png" in err
