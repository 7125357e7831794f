"""SIGTERM stops every kind of run as cleanly as Ctrl-C: exit 143 (SIGHUP 129), one line that says how to
resume where there is something to resume, no temporary file and no lock left. The child's signal
dispositions are reset (a suite started as a background job inherits SIGINT ignored), and each test waits for
a sign that the run is working (its first frame, its first line) instead of sleeping."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.helpers import REPO, smooth_image
from tests.helpers.clips import count_frames_ffmpeg, make_clip
from vidstyle.io.images import write_image


def default_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def start(*argv: object, cwd: Path = REPO) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "vidstyle", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd, preexec_fn=default_signals)


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.02)


def torch_loaded(proc: subprocess.Popen) -> Callable[[], bool]:
    """The process has loaded torch: it is past start-up and inside vidstyle's handlers."""
    def check() -> bool:
        try:
            return "libtorch" in Path(f"/proc/{proc.pid}/maps").read_text()
        except OSError:
            return False
    return check


def hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*")]


def fast(weights: Path, *extra: object) -> list[object]:
    return ["--preset", "fast", "--size", "32", "--weights", weights, "--device", "cpu", "--seed", "0", "--quiet",
            *extra]


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        write_image(folder / f"f{i}.png", smooth_image(24, 32, seed=i))
    write_image(tmp_path / "style.png", smooth_image(32, 32, seed=9))
    return folder, tmp_path / "style.png"


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signal_stops_an_image_run(tmp_path, inputs, weights_path, signum, code):
    folder, style = inputs
    proc = start(folder / "f0.png", style, tmp_path / "o.png", *fast(weights_path, "--iterations", "100000"),
                 "--report", tmp_path / "r.json")
    wait_for(proc, torch_loaded(proc))
    proc.send_signal(signum)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == code, err
    assert err.strip() == f"vidstyle: stopped by {signal.Signals(signum).name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "style.png"]


@pytest.mark.slow
def test_sigterm_stops_a_video_run_that_then_resumes(tmp_path, inputs, weights_path):
    folder, style = inputs
    out = tmp_path / "out.mp4"
    argv = [folder, style, out, *fast(weights_path, "--iterations", "2", "--first-iterations", "2",
                                      "--temporal", "none")]
    proc = start(*argv)
    wait_for(proc, lambda: (tmp_path / "out.mp4.work" / "frame_000001.png").exists())
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143, err
    assert len(err.strip().splitlines()) == 1 and "stopped by SIGTERM: stopped after" in err
    assert "run the same command again to resume" in err
    work = tmp_path / "out.mp4.work"
    assert not (work / "vidstyle.lock").exists() and hidden(tmp_path) == [] and not out.exists()
    done = len(list(work.glob("frame_*.png")))
    proc = start(*argv, "--report", tmp_path / "r.json")
    assert proc.wait(timeout=300) == 0, proc.communicate()[1]
    assert count_frames_ffmpeg(out) == 4 and hidden(tmp_path) == [] and not work.exists()
    import json

    assert json.loads((tmp_path / "r.json").read_text())["totals"]["resumed"] == done


@pytest.mark.slow
def test_sigterm_ends_a_live_session_with_its_recording(tmp_path, weights_path, starry_night):
    camera = make_clip(tmp_path / "cam.mp4", size="64x48", rate="30", frames=300)
    record = tmp_path / "rec.mp4"
    proc = start("live", starry_night, "--camera", camera, "--no-window", "--size", "32", "--iterations", "1",
                 "--first-iterations", "2", "--weights", weights_path, "--device", "cpu", "--record", record)
    # the first frame's progress line comes first, then "vidstyle live: camera ... at 30 fps, ...": the session runs
    lines = [proc.stderr.readline()]
    while lines[-1] and not lines[-1].startswith("vidstyle live: camera") and len(lines) < 3:
        lines.append(proc.stderr.readline())
    assert lines[-1].startswith("vidstyle live: camera"), "".join(lines) + proc.communicate()[1]
    time.sleep(0.3)  # a few frames shown and recorded
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143, err
    assert "stopped: stopped by SIGTERM" in err and "Traceback" not in err
    assert count_frames_ffmpeg(record) >= 1 and hidden(tmp_path) == []


@pytest.mark.slow
def test_sigterm_stops_a_ray_run_quietly(tmp_path, weights_path, starry_night):
    pytest.importorskip("ray")
    clip = make_clip(tmp_path / "clip.mp4", size="64x48", rate="25", frames=40)
    out = tmp_path / "out.mp4"
    proc = start(clip, starry_night, out, *fast(weights_path, "--iterations", "2", "--first-iterations", "2",
                                               "--temporal", "none"), "--ray", "--chunk-frames", "4", "--overlap", "1",
                 "--workers", "1")
    work = tmp_path / "out.mp4.work"
    wait_for(proc, lambda: (work / "frame_000001.png").exists(), timeout=240)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("vidstyle: stopped by SIGTERM: stopped after"), err
    assert len(err.strip().splitlines()) == 1, err  # no Ray banner, no C++ stack dump
    assert not (work / "vidstyle.lock").exists() and hidden(tmp_path) == []
