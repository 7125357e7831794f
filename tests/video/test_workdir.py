"""The resumable work directory (vidstyle.video.workdir): frames, records, fingerprint, cleanup, lock."""
from __future__ import annotations

import os

import numpy as np
import pytest

from tests.helpers import smooth_image
from tests.io.temps import dead_pid, stale_temp
from vidstyle.errors import VidstyleError
from vidstyle.video.workdir import LOCK, MARKER, STAGING, WorkDir, fingerprint

SETTINGS = {"input": "clip", "config": {"iterations": 3}}


def test_frames_round_trip_losslessly_and_count_without_gaps(tmp_path):
    work = WorkDir(tmp_path / "w", SETTINGS)
    frames = [smooth_image(12, 16, seed=i) for i in range(3)]
    for i in (0, 1):
        work.save(i, frames[i], {"iterations": 5, "losses": {"total": float(i)}})
    work.save(3, frames[2], {"iterations": 5})  # a gap at 2: the run resumes there
    assert work.finished() == 2
    assert np.array_equal(work.load(1), frames[1])
    work.release()
    again = WorkDir(tmp_path / "w", SETTINGS)
    assert again.finished() == 2 and again.records[1]["losses"]["total"] == 1.0
    again.release()


def test_other_settings_need_overwrite_which_starts_over(tmp_path):
    work = WorkDir(tmp_path / "w", SETTINGS)
    work.save(0, smooth_image(8, 8), {})
    work.release()
    other = {**SETTINGS, "config": {"iterations": 4}}
    assert fingerprint(other) != fingerprint(SETTINGS)
    with pytest.raises(VidstyleError, match="different settings"):
        WorkDir(tmp_path / "w", other)
    fresh = WorkDir(tmp_path / "w", other, overwrite=True)
    assert fresh.finished() == 0
    fresh.release()


def test_a_foreign_folder_is_never_used(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "notes.txt").write_text("keep")
    with pytest.raises(VidstyleError, match="not a vidstyle work directory"):
        WorkDir(tmp_path / "w", SETTINGS, overwrite=True)
    assert (tmp_path / "w" / "notes.txt").read_text() == "keep"


def test_a_run_killed_while_writing_its_marker_leaves_a_usable_folder(tmp_path):
    """Killed between creating the folder and renaming its marker into place: only the lock and the marker's
    temporary file are there, and the next run must start, not call the folder foreign."""
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / LOCK).write_text("")
    stale_temp(tmp_path / "w" / MARKER, data=b"{")  # made by a run whose process is gone
    work = WorkDir(tmp_path / "w", SETTINGS)
    assert work.finished() == 0 and (tmp_path / "w" / MARKER).is_file()
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == sorted([LOCK, MARKER])
    work.release()


def test_a_file_only_named_like_a_temporary_makes_the_folder_foreign(tmp_path):
    """A name is no proof: a file named like the marker's temporary of a dead run is not vidstyle's, so it
    stays, and the folder holding it is not taken for a work directory."""
    (tmp_path / "w").mkdir()
    lookalike = tmp_path / "w" / f".{MARKER}.{dead_pid()}.abcdefgh.part.json"
    lookalike.write_text("a user's")
    with pytest.raises(VidstyleError, match="not a vidstyle work directory"):
        WorkDir(tmp_path / "w", SETTINGS)
    assert [p.name for p in (tmp_path / "w").iterdir()] == [lookalike.name] and lookalike.read_text() == "a user's"


def test_a_work_directory_swapped_while_running_is_neither_written_nor_cleared(tmp_path):
    """The folder is known by its inode: once its path names another folder (moved away, a link put in its
    place), no frame is saved there and clear() deletes nothing there, not even files named like its frames."""
    work = WorkDir(tmp_path / "w", SETTINGS)
    work.save(0, smooth_image(8, 8), {})
    other = tmp_path / "other"
    other.mkdir()
    (other / "frame_000001.png").write_bytes(b"someone's frame")
    (other / LOCK).write_text("someone's lock")
    os.rename(tmp_path / "w", tmp_path / "moved")
    os.symlink(other, tmp_path / "w")
    with pytest.raises(VidstyleError, match="was replaced while this run was working"):
        work.save(1, smooth_image(8, 8), {})
    work.clear()
    assert sorted(p.name for p in other.iterdir()) == sorted([LOCK, "frame_000001.png"])
    assert (other / "frame_000001.png").read_bytes() == b"someone's frame"
    assert (other / LOCK).read_text() == "someone's lock"


def test_clear_removes_only_what_vidstyle_wrote(tmp_path):
    work = WorkDir(tmp_path / "w", SETTINGS)
    work.save(0, smooth_image(8, 8), {})
    chunk = WorkDir(tmp_path / "w" / STAGING / "0000", {"chunk": 0}, lock=False)
    chunk.save(0, smooth_image(8, 8), {})
    assert not (chunk.path / LOCK).exists()  # inside a locked run: no lock of its own
    (tmp_path / "w" / "mine.txt").write_text("keep")
    work.clear()
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["mine.txt"]
    work2 = WorkDir(tmp_path / "v", SETTINGS)
    work2.clear()
    assert not (tmp_path / "v").exists() and not (tmp_path / "v" / MARKER).exists()


def test_the_lock_is_held_until_release(tmp_path):
    work = WorkDir(tmp_path / "w", SETTINGS)
    with pytest.raises(VidstyleError, match="in use by another vidstyle run"):
        WorkDir(tmp_path / "w", SETTINGS)
    work.release()
    WorkDir(tmp_path / "w", SETTINGS).release()


def test_a_damaged_finished_frame_says_to_start_over(tmp_path):
    work = WorkDir(tmp_path / "w", SETTINGS)
    work.save(0, smooth_image(12, 16), {})
    path = work.frame_path(0)
    path.write_bytes(path.read_bytes()[:40])  # cut by something else than vidstyle
    with pytest.raises(VidstyleError, match="is damaged: pass --overwrite to start over"):
        work.load(0)
    work.release()


def test_a_swap_right_after_the_check_still_writes_nothing_through_the_new_path(tmp_path, monkeypatch):
    """The folder is swapped for a link to another folder between save()'s checks and its writes (the window
    a writer thread can meet): the record and the frame land in the folder the run opened, none in the other."""
    import vidstyle.video.workdir as workdir

    work = WorkDir(tmp_path / "w", SETTINGS)
    other = tmp_path / "other"
    other.mkdir()
    checked = workdir.check_commit

    def check_then_swap(path: os.PathLike) -> None:
        checked(path)
        if not work.path.is_symlink():
            os.rename(work.path, tmp_path / "moved")
            os.symlink(other, work.path)

    monkeypatch.setattr(workdir, "check_commit", check_then_swap)
    frame = smooth_image(8, 12)
    work.save(0, frame, {"iterations": 1})
    assert list(other.iterdir()) == []
    moved = tmp_path / "moved"
    assert (moved / "frame_000001.png").is_file() and "iterations" in (moved / "frames.jsonl").read_text()
    assert not [p for p in moved.iterdir() if p.name.startswith(".frame_")]  # no temporary left behind
    with pytest.raises(VidstyleError, match="was replaced while this run was working"):
        work.save(1, frame, {"iterations": 1})
    assert list(other.iterdir()) == []
    work.release()
