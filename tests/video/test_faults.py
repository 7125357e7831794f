"""Video runs under faults: --overwrite of a frame folder, the work-directory lock, weights replaced
between runs, a report that cannot be written, SIGKILL at random points, and two runs on one OUTPUT."""
from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import REPO, smooth_image
from tests.helpers.clips import count_frames_ffmpeg
from vidstyle import Config, VideoInterrupted, VidstyleError, stylize_video
from vidstyle.cli.main import main
from vidstyle.io.images import read_image, write_image
from vidstyle.video.workdir import WorkDir

FAST = ["--preset", "fast", "--size", "32", "--iterations", "0", "--first-iterations", "0", "--temporal", "none",
        "--device", "cpu", "--quiet"]


def cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", size=32, iterations=1, first_iterations=1, temporal="none",
                                   quiet=True, seed=0, device="cpu")
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


@pytest.fixture()
def frames(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        write_image(folder / f"f{i}.png", smooth_image(24, 32, seed=i))
    return folder


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    write_image(tmp_path / "style.png", smooth_image(32, 32, seed=7))
    return tmp_path / "style.png"


def hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*")]


def test_overwrite_of_a_frame_folder_keeps_everything_but_its_frames(tmp_path, frames, style, weights_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep")
    write_image(out / "frame_000009.png", smooth_image(8, 8))  # of an earlier, longer run
    write_image(out / "photo.png", smooth_image(8, 8))
    stylize_video(frames, style, out, cfg(weights=str(weights_path), overwrite=True))
    names = sorted(p.name for p in out.iterdir())
    assert names == [*(f"frame_00000{i}.png" for i in range(1, 5)), "notes.txt", "photo.png", "sub"]
    assert (out / "notes.txt").read_text() == "keep" and read_image(out / "frame_000004.png").shape == (24, 32, 3)
    assert hidden(tmp_path) == [] and not (tmp_path / "out.work").exists()


def test_work_directory_is_locked(tmp_path):
    settings = {"a": 1}
    first = WorkDir(tmp_path / "w", settings)
    with pytest.raises(VidstyleError, match=rf"in use by another vidstyle run \(process {os.getpid()}\)"):
        WorkDir(tmp_path / "w", settings, overwrite=True)
    assert (tmp_path / "w" / "vidstyle-work.json").is_file()  # the loser deleted nothing
    first.release()
    second = WorkDir(tmp_path / "w", settings)
    second.clear()
    assert not (tmp_path / "w").exists()


def test_replaced_weights_never_mix_into_a_resumed_video(tmp_path, frames, style, weights_path, monkeypatch):
    weights = tmp_path / "vgg19-caffe-copy.pth"  # 'caffe' in the name: same input convention
    shutil.copy(weights_path, weights)
    monkeypatch.setenv("VIDSTYLE_WEIGHTS", str(weights))  # no --weights string to fingerprint

    def stop_after_first(update):
        raise KeyboardInterrupt

    out = tmp_path / "out.mp4"
    with pytest.raises(VideoInterrupted):
        stylize_video(frames, style, out, cfg(), progress=stop_after_first)
    state = torch.load(weights)
    state["features.0.weight"] = state["features.0.weight"] * 1.5
    torch.save(state, weights)  # other weights, same path
    with pytest.raises(VidstyleError, match="different settings"):
        stylize_video(frames, style, out, cfg())
    moved = tmp_path / "vgg19-caffe-moved.pth"  # the original bytes under another path resume the run
    shutil.copy(weights_path, moved)
    report = stylize_video(frames, style, out, cfg(weights=str(moved)))
    assert report["totals"]["resumed"] == 1 and report["totals"]["computed_this_run"] == 3


def test_report_that_cannot_be_written_fails_before_output(tmp_path, frames, style, weights_path, monkeypatch,
                                                          capsys):
    out, report = tmp_path / "out.mp4", tmp_path / "report.json"
    argv = [str(frames), str(style), str(out), *FAST, "--weights", str(weights_path), "--report", str(report)]
    real = Path.write_text

    def disk_full(self, *args, **kwargs):
        if "report.json" in self.name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full)
    assert main(argv) == 2
    assert "cannot write report" in capsys.readouterr().err and not out.exists() and not report.exists()
    monkeypatch.setattr(Path, "write_text", real)
    assert main(argv) == 0  # the same command again, no --overwrite needed
    assert json.loads(report.read_text())["totals"]["frames"] == 4 and count_frames_ffmpeg(out) == 4


def command(*argv: object) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "vidstyle", *map(str, argv)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env=env, cwd=REPO)


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun(tmp_path, frames, style, weights_path):
    out, report = tmp_path / "out.mp4", tmp_path / "report.json"
    argv = [frames, style, out, *FAST, "--weights", weights_path, "--report", report]
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    lock = tmp_path / "out.mp4.work" / "vidstyle.lock"
    for _ in range(3):
        proc = command(*argv)
        deadline = time.monotonic() + 120
        while not lock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # start-up (imports, weights) is not the interesting part
        time.sleep(rng.uniform(0.0, 0.5))  # somewhere in frames, log lines, encoding, commit, clean-up
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        if out.exists():  # killed after the commit (or it had finished): nothing left to kill
            break
    proc = command(*argv, *(["--overwrite"] if out.exists() else []))
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, (seed, err)
    assert count_frames_ffmpeg(out) == 4, seed
    records = json.loads(report.read_text())["frames"]
    assert [r["index"] for r in records] == [0, 1, 2, 3] and all("iterations" in r for r in records), seed
    assert hidden(tmp_path) == [] and not (tmp_path / "out.mp4.work").exists(), seed


@pytest.mark.slow
def test_two_video_runs_on_one_output(tmp_path, frames, style, weights_path):
    out = tmp_path / "out.mp4"
    procs = [command(frames, style, out, *FAST, "--weights", weights_path) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    err = next(e for c, e in results if c == 2)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert any(s in err for s in ("in use by another vidstyle run", "already exists", "appeared while")), err
    assert count_frames_ffmpeg(out) == 4 and hidden(tmp_path) == []


def stop_after(n: int):
    def progress(update):
        if update.computed >= n:
            raise KeyboardInterrupt
    return progress


@pytest.mark.slow
def test_resume_identifies_init_and_masks_by_content(tmp_path, frames, style, weights_path):
    """Stop after 2 frames, edit --init (or a mask) in place, rerun: never old frames mixed with new ones."""
    init, cmask, smask = tmp_path / "init.png", tmp_path / "cmask.png", tmp_path / "smask.png"
    write_image(init, smooth_image(24, 32, seed=5))
    for path, (h, w) in ((cmask, (24, 32)), (smask, (32, 32))):
        mask = np.zeros((h, w, 3), np.uint8)
        mask[:, : w // 2] = (255, 0, 0)
        mask[:, w // 2:] = (0, 0, 255)
        write_image(path, mask)
    out = tmp_path / "out.mp4"
    config = cfg(weights=str(weights_path), init=str(init), content_mask=str(cmask), style_mask=str(smask))
    for edited in (init, smask):
        with pytest.raises(VideoInterrupted):
            stylize_video(frames, style, out, config.replace(overwrite=True), progress=stop_after(2))
        stat = edited.stat()
        write_image(edited, read_image(edited)[::-1, ::-1] if edited == smask else smooth_image(24, 32, seed=6))
        os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time stamp: only the bytes differ
        with pytest.raises(VidstyleError, match="different settings"):
            stylize_video(frames, style, out, config)
    report = stylize_video(frames, style, out, config.replace(overwrite=True))
    assert report["totals"]["resumed"] == 0 and report["totals"]["computed_this_run"] == 4


def test_work_directory_lock_on_a_full_disk(tmp_path, monkeypatch):
    import vidstyle.video.workdir as workdir

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workdir.os, "write", full)
    with pytest.raises(VidstyleError, match="cannot write the lock of work directory .*No space left"):
        WorkDir(tmp_path / "w", {"a": 1})
    assert not (tmp_path / "w").exists()  # neither the lock nor the folder this run made is left


def test_exif_orientation_counts_in_the_up_front_size_check(tmp_path):
    import struct

    from vidstyle.io.frames import check_frame_sizes
    from vidstyle.io.images import encode_image

    folder = tmp_path / "jpegs"
    folder.mkdir()
    data = encode_image(smooth_image(24, 32), ".jpg")
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    app1 = b"Exif\0\0" + b"MM" + struct.pack(">HI", 42, 8) + ifd
    for i in range(3):
        (folder / f"f{i}.jpg").write_bytes(data)
    (folder / "f3.jpg").write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
    assert read_image(folder / "f3.jpg").shape == (32, 24, 3)  # the decoder turns it
    with pytest.raises(VidstyleError, match="frame f3.jpg is 24x32 but f0.jpg is 32x24"):
        check_frame_sizes(sorted(folder.iterdir()))


def vfr_clip(path: Path) -> Path:
    """6 frames spanning 2.02 s at uneven times (0.1 .. 0.7 s apart), with 2.02 s of audio."""
    from vidstyle.io.video_files import ffmpeg_exe

    listing = path.with_suffix(".txt")
    lines = []
    for i, seconds in enumerate((0.1, 0.1, 0.5, 0.7, 0.3, 0.32)):
        write_image(path.parent / f"vfr{i}.png", smooth_image(24, 32, seed=i))
        lines += [f"file vfr{i}.png", f"duration {seconds}"]
    listing.write_text("\n".join([*lines, "file vfr5.png"]) + "\n")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-i", str(listing), "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=2.02", "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def stream_seconds(path: Path, stream: str) -> float:
    """End time of a stream (v or a) as ffmpeg reads it without decoding."""
    import re

    from vidstyle.io.video_files import ffmpeg_exe

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", f"0:{stream}", "-c", "copy", "-f",
                           "null", "-"], capture_output=True, text=True, errors="replace")
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", proc.stderr)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_variable_frame_rate_keeps_duration_and_audio(tmp_path, style, weights_path, capsys):
    clip = vfr_clip(tmp_path / "vfr.mp4")
    out = tmp_path / "out.mp4"
    loud = [a for a in FAST if a != "--quiet"]  # the note is part of the output
    assert main([str(clip), str(style), str(out), *loud, "--weights", str(weights_path)]) == 0
    err = capsys.readouterr().err
    assert err.count("variable frame rate") == 1, err
    assert count_frames_ffmpeg(out) == 6
    from vidstyle.io.video_files import probe_video

    fps = float(probe_video(out).fps)
    assert abs(6 / fps - 2.02) <= 1 / fps  # the duration within one frame of the input's
    assert stream_seconds(out, "a") == pytest.approx(stream_seconds(clip, "a"), abs=0.03)  # the whole audio


def test_a_work_directory_swapped_for_a_link_to_the_input_frames_is_left_alone(tmp_path, style, weights_path):
    """`mv wd moved; ln -s prev wd` while the run works, prev being the input: frames named like vidstyle's own
    (a folder it wrote before). No later frame is saved there and nothing there is cleared; the old code wrote
    its frames over the input's and, once done, deleted them as its own."""
    prev = tmp_path / "prev"
    prev.mkdir()
    for i in range(3):
        write_image(prev / f"frame_{i + 1:06d}.png", smooth_image(24, 32, seed=i))
    before = {p.name: p.read_bytes() for p in prev.iterdir()}
    work = tmp_path / "wd"

    def swap(update):
        if not work.is_symlink():
            os.rename(work, tmp_path / "moved")
            os.symlink(prev, work)

    # the writer thread saves frames while the callback swaps: between the rename and the link it finds no
    # folder at all ("cannot write"), after it the re-check names the swap; either way nothing is written there
    with pytest.raises(VidstyleError, match="was replaced while this run was working|now leads to the input|"
                                            "cannot write .*: No such file or directory"):
        stylize_video(prev, style, tmp_path / "out.mp4", cfg(weights=str(weights_path), work_dir=str(work)),
                      progress=swap)
    assert {p.name: p.read_bytes() for p in prev.iterdir()} == before
    assert not (tmp_path / "out.mp4").exists()
