"""`vidstyle ... --ray` in a child process, with the local Ray it starts: interrupted, then resumed. The stop line
counts the frames a rerun resumes, and neither run leaves a Ray session folder behind. The child's signal
dispositions are reset (a suite started as a background job inherits SIGINT ignored)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
from samples.motion_clips import motion_frames
from tests.helpers import MEDIA, REPO

from vidstyle.io.images import read_image, write_image

pytest.importorskip("ray", reason="Ray is the optional extra vidstyle[ray]")


def default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


@pytest.fixture()
def ray_tmpdir() -> Iterator[Path]:
    """$RAY_TMPDIR for the child: empty, short (Ray's sockets live below it) and watched for leftovers."""
    folder = Path(tempfile.mkdtemp(prefix="vs", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start(ray_tmpdir: Path, *argv: object) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "RAY_TMPDIR": str(ray_tmpdir)}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen([sys.executable, "-m", "vidstyle", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO, preexec_fn=default_signals)


@pytest.mark.slow
def test_interrupted_ray_run_says_what_a_rerun_resumes_and_leaves_no_ray_folder(
        tmp_path: Path, weights_path: Path, ray_tmpdir: Path) -> None:
    clip = tmp_path / "clip"
    clip.mkdir()
    for i, frame in enumerate(motion_frames("pan", read_image(MEDIA / "tubingen.jpg"), frames=16, width=32, height=24)):
        write_image(clip / f"f{i:03d}.png", frame)
    out, work, report = tmp_path / "out", tmp_path / "out.work", tmp_path / "run.json"
    argv = [clip, MEDIA / "starry_night.jpg", out, "--preset", "fast", "--weights", weights_path, "--device", "cpu",
            "--quiet", "--seed", "0", "--size", "32", "--iterations", "3", "--first-iterations", "6",
            "--ray", "--chunk-frames", "8", "--overlap", "2", "--report", report]
    proc = start(ray_tmpdir, *argv)
    deadline = time.monotonic() + 240
    while not (work / "frame_000001.png").is_file():  # the first frame committed: the chunks are under way
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    finished = len(list(work.glob("frame_*.png")))  # the output frames in the work directory
    staged = list((work / "chunks").glob("*/frame_*.png"))
    assert staged, "the chunks' staged frames were kept too"
    said = re.search(r"stopped after (\d+) finished frames, kept in .*out\.work; run the same command", err)
    assert said, err
    assert int(said[1]) == finished  # not finished + staged (16 of 16 with 10 to go, say)
    assert list(ray_tmpdir.iterdir()) == []  # the local Ray's session folder went with it

    proc = start(ray_tmpdir, *argv)
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, err
    assert json.loads(report.read_text())["totals"]["resumed"] == finished  # what the stop line said
    assert len(list(out.glob("*.png"))) == 16
    assert list(ray_tmpdir.iterdir()) == []
