"""Frame directories: natural order, same-size rule, atomic PNG output."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle.errors import VidstyleError
from vidstyle.io.frames import (
    FrameDirWriter,
    check_output_dir,
    frame_size,
    iter_frame_dir,
    list_frames,
    natural_key,
)
from vidstyle.io.images import read_image, write_image


def solid(value: int, h: int = 12, w: int = 20) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def test_natural_order(tmp_path: Path) -> None:
    for i in (10, 2, 1, 33, 3):
        write_image(tmp_path / f"f{i}.png", solid(i))
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / ".hidden.png").write_bytes(b"")
    names = [p.name for p in list_frames(tmp_path)]
    assert names == ["f1.png", "f2.png", "f3.png", "f10.png", "f33.png"]
    assert [int(f[0, 0, 0]) for f in iter_frame_dir(tmp_path)] == [1, 2, 3, 10, 33]
    assert sorted(["b1", "a10", "a2", "A3"], key=natural_key) == ["a2", "A3", "a10", "b1"]


def test_range_and_resize(tmp_path: Path) -> None:
    for i in range(1, 6):
        write_image(tmp_path / f"{i}.jpg", solid(40 * i))
    frames = list(iter_frame_dir(tmp_path, start=1, max_frames=2, size=10))
    assert len(frames) == 2 and frames[0].shape == (6, 10, 3)
    assert abs(int(frames[0][3, 5, 0]) - 80) <= 3  # second file first
    with pytest.raises(VidstyleError, match="no frames"):
        list(iter_frame_dir(tmp_path, start=5))


def test_header_sizes_match_decoding(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 255, (17, 29, 3), dtype=np.uint8)
    for ext in (".png", ".jpg", ".bmp"):
        write_image(tmp_path / f"x{ext}", img)
        assert frame_size(tmp_path / f"x{ext}") == (29, 17)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    (tmp_path / "p.jpg").write_bytes(buf.tobytes())
    assert frame_size(tmp_path / "p.jpg") == (29, 17)


def test_mixed_sizes_refused_before_any_frame(tmp_path: Path) -> None:
    write_image(tmp_path / "f1.png", solid(1))
    write_image(tmp_path / "f2.jpg", solid(2, h=13))
    frames = iter_frame_dir(tmp_path)
    with pytest.raises(VidstyleError, match="f2.jpg is 20x13"):
        next(frames)  # refused up front, not after f1 was yielded


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(VidstyleError, match="no images"):
        list_frames(tmp_path)
    with pytest.raises(VidstyleError, match="not found"):
        list_frames(tmp_path / "nope")


def test_corrupt_frame(tmp_path: Path) -> None:
    write_image(tmp_path / "f1.png", solid(1))
    (tmp_path / "f2.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(VidstyleError):
        list(iter_frame_dir(tmp_path))


def test_writer_round_trip_is_lossless_and_atomic(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (9, 11, 3), dtype=np.uint8) for _ in range(12)]
    with FrameDirWriter(out) as w:
        for f in frames:
            w.write(f)
        assert not out.exists()  # appears only when complete
    names = [p.name for p in list_frames(out)]
    assert names[0] == "frame_000001.png" and len(names) == 12
    assert all(np.array_equal(a, b) for a, b in zip(iter_frame_dir(out), frames))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_writer_replaces_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_image(out / "old.png", solid(7))
    with pytest.raises(VidstyleError, match="--overwrite"):
        check_output_dir(out, overwrite=False)
    check_output_dir(out, overwrite=True)
    with pytest.raises(KeyboardInterrupt):
        with FrameDirWriter(out) as w:
            w.write(solid(1))
            raise KeyboardInterrupt
    assert [p.name for p in out.iterdir()] == ["old.png"] and [p.name for p in tmp_path.iterdir()] == ["out"]
    write_image(out / "frame_000002.png", solid(9))  # a frame of an earlier, longer run
    (out / "notes").mkdir()
    with FrameDirWriter(out) as w:
        w.write(solid(1))
    # only vidstyle's own frames (by name) are replaced; the user's files and folders stay
    assert sorted(p.name for p in out.iterdir()) == ["frame_000001.png", "notes", "old.png"]
    assert int(read_image(out / "frame_000001.png")[0, 0, 0]) == 1
    assert int(read_image(out / "old.png")[0, 0, 0]) == 7
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_that_appears_before_the_rename_keeps_its_files_and_gets_the_frames(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    rename = os.rename

    def another_run_first(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        if Path(dst) == out and not out.exists():  # between close()'s check and its rename
            out.mkdir()
            (out / "theirs.txt").write_text("kept")
        rename(src, dst)

    monkeypatch.setattr(os, "rename", another_run_first)
    with FrameDirWriter(out, replace=True) as w:
        w.write(solid(3))
        w.write(solid(4))
    assert sorted(p.name for p in out.iterdir()) == ["frame_000001.png", "frame_000002.png", "theirs.txt"]
    assert int(read_image(out / "frame_000002.png")[0, 0, 0]) == 4
    assert (out / "theirs.txt").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left

    out2 = tmp_path / "out2"
    monkeypatch.setattr(os, "rename", lambda src, dst: (out2.mkdir(), (out2 / "theirs.txt").write_text("x"),
                                                       rename(src, dst)))
    with pytest.raises(VidstyleError, match="gained files"):  # without --overwrite: theirs is kept
        with FrameDirWriter(out2, replace=False) as w:
            w.write(solid(3))
    assert [p.name for p in out2.iterdir()] == ["theirs.txt"]


def test_output_dir_checks(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(VidstyleError, match="not a directory"):
        check_output_dir(tmp_path / "file", overwrite=True)
    with pytest.raises(VidstyleError, match="does not exist"):
        check_output_dir(tmp_path / "a" / "b", overwrite=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_dir(empty, overwrite=False) == empty
