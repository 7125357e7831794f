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
