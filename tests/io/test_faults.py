"""io safety: input/output overlap both ways, stale temporary files (only vidstyle's own are removed), the
registry's check again at commit time, no-clobber at commit time, and one image reader for OpenCV's warnings
and errors."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from vidstyle.errors import VidstyleError
from vidstyle.io.atomic import atomic_path, clean_stale_temps, is_own_temp, temp_path
from vidstyle.io.frames import FrameDirWriter
from vidstyle.io.images import encode_image, read_image, write_image
from vidstyle.io.path_registry import Target, check_run_paths
from tests.helpers import smooth_image
from tests.io.temps import dead_pid, stale_temp


def test_stale_temps_of_dead_runs_are_removed_others_kept(tmp_path):
    stale = [stale_temp(tmp_path / "out.mp4", "video"), stale_temp(tmp_path / "out.mp4"),
             stale_temp(tmp_path / "out", directory=True)]  # a frame folder's
    kept = [temp_path(tmp_path / "out.mp4"),  # a run still working (this one)
            stale_temp(tmp_path / "other.mp4"),  # another OUTPUT's
            tmp_path / ".out.mp4.notes", tmp_path / "out.mp4"]
    for p in kept[2:]:
        p.write_bytes(b"x")
    removed = clean_stale_temps(tmp_path, "out.mp4") + clean_stale_temps(tmp_path, "out")
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in stale)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links as their target text, folders as 'dir') and the bytes of each file."""
    found = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            found[key] = "link:" + os.readlink(p)
        elif p.is_dir():
            found[key] = "dir"
        else:
            found[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def test_the_clean_up_removes_only_what_vidstyle_made(tmp_path):
    """Names alone prove nothing: a user's folder, file, link or copy named like a temporary of a dead run stays
    with everything in it; a real stale frame folder loses only its frames, not a file someone put in it."""
    pid = dead_pid()
    folder = tmp_path / f".out.png.{pid}.abcdefgh.part"
    folder.mkdir()
    (folder / "precious.txt").write_text("precious")
    (folder / "frame_000001.png").write_text("not vidstyle's either")
    (tmp_path / f".out.mp4.{pid}.abcdefgh.video.mp4").mkdir()
    (tmp_path / f".out.mp4.{pid}.abcdefgh.video.mp4" / "precious.txt").write_text("precious")
    (tmp_path / f".out.png.{pid}.abcdefgh.part.png").write_text("typed by hand")
    (tmp_path / "mine.png").write_text("a user's file")
    real = stale_temp(tmp_path / "out.png")
    real.unlink()
    os.symlink(tmp_path / "mine.png", real)  # a link under a real temporary's name: never followed or removed
    copied = stale_temp(tmp_path / "out.mp4")
    shutil.copy(copied, tmp_path / "copy")
    os.replace(tmp_path / "copy", copied)  # the same name, another file: not the one vidstyle made
    frames = stale_temp(tmp_path / "out", directory=True)
    (frames / "notes.txt").write_text("someone's")
    before = tree_digest(tmp_path)
    assert clean_stale_temps(tmp_path, "out.png") + clean_stale_temps(tmp_path, "out.mp4") == []
    assert clean_stale_temps(tmp_path, "out") == []  # the folder stays: it holds someone's file
    del before[str((frames / "frame_000001.png").relative_to(tmp_path))]
    assert tree_digest(tmp_path) == before


def test_every_temporary_vidstyle_makes_carries_its_mark(tmp_path, monkeypatch):
    """What the clean-up would remove after a kill is everything vidstyle leaves: the temporaries of images,
    reports, frame folders, and of videos with and without audio (ffmpeg writes into the file vidstyle made)."""
    from fractions import Fraction

    from tests.helpers.clips import make_clip
    from vidstyle.io import atomic
    from vidstyle.io.encode import VideoWriter
    from vidstyle.io.report_files import write_report

    (tmp_path / "t").mkdir()
    assert is_own_temp(temp_path(tmp_path / "t" / "a.png")) and is_own_temp(temp_path(tmp_path / "t" / "a", directory=True))
    committed = []
    real = atomic.commit_file

    def commit(tmp, target, **kw):
        committed.append((tmp.name, is_own_temp(tmp)))
        return real(tmp, target, **kw)

    monkeypatch.setattr(atomic, "commit_file", commit)
    write_image(tmp_path / "o.png", smooth_image(8, 8))
    write_report(tmp_path / "r.json", {"a": 1})
    clip = make_clip(tmp_path / "in.mp4", frames=2, audio=True)
    for name, audio in (("plain.mp4", None), ("sound.mp4", clip)):
        with VideoWriter(tmp_path / name, Fraction(25), audio_source=audio) as writer:
            writer.write(smooth_image(16, 16))
    assert len(committed) == 4 and all(own for _, own in committed), committed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "o.png", "plain.mp4", "r.json", "sound.mp4",
                                                          "t"]


def test_a_commit_into_a_folder_swapped_for_a_link_to_an_input_is_refused(tmp_path):
    """The registry checks an output again when the result is committed: `rmdir o; ln -s inputs o` during the
    run must not let the final rename replace the input, --overwrite (replace=True) or not, for a file, a frame
    folder and the work directory's frames."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    write_image(inputs / "photo.png", smooth_image(8, 8, seed=1))
    write_image(inputs / "frame_000001.png", smooth_image(8, 8, seed=2))
    before = tree_digest(inputs)
    outs = {"OUTPUT": tmp_path / "o", "--work-dir": tmp_path / "wd", "frames": tmp_path / "f"}
    check_run_paths([("INPUT", inputs / "photo.png"), ("--content-mask", inputs)],
                    [Target("OUTPUT", outs["OUTPUT"] / "photo.png"), Target("--work-dir", outs["--work-dir"], folder=True),
                     Target("OUTPUT", outs["frames"], folder=True)])
    for out in outs.values():  # each folder swapped for a link to the inputs after the check
        os.symlink(inputs, out)
    for replace in (True, False):
        with pytest.raises(VidstyleError, match="now leads to the input"):
            write_image(outs["OUTPUT"] / "photo.png", smooth_image(8, 8), replace=replace)
        with pytest.raises(VidstyleError, match="now leads to the input"):
            write_image(outs["--work-dir"] / "frame_000001.png", smooth_image(8, 8), replace=replace)
        with pytest.raises(VidstyleError, match="now leads to the input"):
            with FrameDirWriter(outs["frames"], replace=replace) as writer:
                writer.write(smooth_image(8, 8))
    assert tree_digest(inputs) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "inputs", "o", "wd"]


def test_the_commit_itself_checks_again(tmp_path):
    """The final step, not only the temporary's creation: a frame folder swapped while its frames were being
    written, and a hard link to the input put at the target (it *is* the input), are refused at commit."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    write_image(inputs / "frame_000001.png", smooth_image(8, 8, seed=2))
    before = tree_digest(inputs)
    frames, target = tmp_path / "f", tmp_path / "out" / "o.png"
    target.parent.mkdir()
    check_run_paths([("INPUT", inputs)], [Target("OUTPUT", frames, folder=True), Target("--report", target)])
    with pytest.raises(VidstyleError, match="now leads to the input"):
        with FrameDirWriter(frames) as writer:
            writer.write(smooth_image(8, 8))
            os.symlink(inputs, frames)
    with pytest.raises(VidstyleError, match="now leads to the input"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"report")
            os.link(inputs / "frame_000001.png", target)
    assert tree_digest(inputs) == before and [p.name for p in target.parent.iterdir()] == ["o.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "inputs", "out"]  # no temporary left


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
