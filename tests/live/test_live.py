"""Live mode end to end with a generated clip as the camera: recording, keys, shutdown paths and errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.clips import count_frames_ffmpeg, make_clip, opencv_frames
from tests.helpers import MEDIA, REPO

from vidstyle.cli.main import main
from vidstyle.config import Config
from vidstyle.engine import Stylizer
from vidstyle.errors import VidstyleError
from vidstyle.io.camera import Camera
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.live import run_live
from vidstyle.live.config import LIVE_PRESET, LiveConfig, live_engine_config
from vidstyle.live.keys import ScriptedKeys

SIZE = 48  # processing size of every test here: 48x36 frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s of a moving test pattern at 30 fps: longer than any test here needs."""
    return make_clip(tmp_path_factory.mktemp("live") / "camera.mp4", size="64x48", rate="30", frames=150)


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("live") / "short.mp4", size="64x48", rate="30", frames=10)


def live_config(weights: Path, **fields: object) -> LiveConfig:
    engine = live_engine_config(size=SIZE, iterations=2, weights=str(weights), quiet=True, device="cpu")
    return LiveConfig(engine=engine, window=False, **fields)  # type: ignore[arg-type]


@pytest.mark.slow
def test_headless_run_records_exactly_n_stylized_frames(clip: Path, weights_path: Path, starry_night: Path,
                                                         tmp_path: Path) -> None:
    out, report = tmp_path / "live.mp4", tmp_path / "live.json"
    rc = main(["live", str(starry_night), "--camera", str(clip), "--no-window", "--max-frames", "12", "--size",
               str(SIZE), "--iterations", "3", "--weights", str(weights_path), "--device", "cpu", "--record", str(out),
               "--report", str(report)])
    assert rc == 0
    assert count_frames_ffmpeg(out) == 12  # decoded by ffmpeg: a valid mp4 holding exactly the frames shown
    data = json.loads(report.read_text())
    assert data["frames_shown"] == 12 and data["recorded_frames"] == 12
    assert "max-frames" in data["stop_reason"] and data["camera"]["size"] == "48x36"
    assert data["settings"]["engine"]["preset"] == "fast" and data["display_fps"] > 0
    # what was shown is stylized, not the camera picture: compare with the clip's own first frame
    recorded = opencv_frames(out)[0][:36]
    camera = resize_long_side(opencv_frames(clip)[0], SIZE)
    assert float(np.mean(np.abs(recorded.astype(float) - camera.astype(float)))) > 8


@pytest.mark.slow
def test_keys_snapshot_style_cycle_weight_and_quit(clip: Path, weights_path: Path, starry_night: Path,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    styles = [read_image(starry_night), read_image(starry_night.parent / "the_scream.jpg")]
    calls: list[tuple[int, float]] = []  # (style, beta) of every optimisation the engine ran
    original = Stylizer.stylize

    def spy(self: Stylizer, content: np.ndarray, **kw: object):  # noqa: ANN202
        calls.append((0 if self.parts.targets.raw[0] is styles[0] else 1, self.weight("style")))
        return original(self, content, **kw)

    monkeypatch.setattr(Stylizer, "stylize", spy)
    import vidstyle.engine.build as build

    networks: list[object] = []  # every network loaded: the styles share one on the device
    real_load = build.load_encoder
    monkeypatch.setattr(build, "load_encoder", lambda *a, **kw: networks.append(real_load(*a, **kw)) or networks[-1])
    at_plus: dict[str, int] = {}

    def plus_pressed(st) -> bool:  # noqa: ANN001
        at_plus["updates"] = st.updates_by_style[0]
        return True

    keys = ScriptedKeys([
        (1, "s"),                                                  # snapshot of the first frame shown
        (lambda st: st.updates_by_style[0] >= 1, "n"),             # next style, after a first update
        (lambda st: st.updates_by_style[1] >= 1, "p"),             # back, once style 2 was really used
        (plus_pressed, "+"),                                       # style weight x2
        (lambda st: st.updates_by_style[0] > at_plus["updates"], "q"),  # quit after an update with it
    ])
    summary = run_live(styles, live_config(weights_path, camera=str(clip), snapshot_dir=str(tmp_path)), keys=[keys])
    assert keys.done, f"the clip ended before every key was pressed: {summary}"
    assert summary.stop_reason == "q pressed"
    assert summary.frames_shown == keys.pressed[-1][0]  # nothing shown after q
    # snapshot: a PNG of the shown frame at the processing size, its path printed
    assert len(summary.snapshots) == 1
    snap = Path(summary.snapshots[0])
    assert snap.parent == tmp_path and snap.suffix == ".png"
    assert read_image(snap).shape == (36, 48, 3)
    assert str(snap) in capsys.readouterr().err
    # styles cycled: both were optimised, style 2 between n and p, then style 1 again with beta doubled
    assert summary.updates_by_style["style1"] >= 1 and summary.updates_by_style["style2"] >= 1
    styles_used = [s for s, _ in calls]
    assert styles_used[0] == 0 and 1 in styles_used and styles_used[-1] == 0
    beta = Config(preset=LIVE_PRESET).layer_plan().style_weight  # the live preset's beta, doubled by the + key
    assert calls[0][1] == beta and calls[-1][1] == 2 * beta
    assert len(networks) == 1, "each style loaded its own copy of the network"


@pytest.mark.slow
def test_end_of_file_camera_stops_cleanly(short_clip: Path, weights_path: Path, starry_night: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "eof.mp4"
    summary = run_live([starry_night], live_config(weights_path, camera=str(short_clip), record=str(out)))
    assert summary.stop_reason == "end of the video file" and summary.camera_frames == 10
    assert 1 <= summary.frames_shown <= 10
    assert count_frames_ffmpeg(out) == summary.frames_shown == summary.recorded_frames


class UnpluggedCamera:
    """A fake device: 30 fps for ``frames`` frames, then reads fail (cable pulled)."""

    def __init__(self, frames: int) -> None:
        self.left = frames
        self.image = cv2.cvtColor(resize_long_side(read_image(MEDIA / "tubingen.jpg"), 64),
                                  cv2.COLOR_RGB2BGR)

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(1 / 30)
        self.left -= 1
        return (self.left >= 0, np.roll(self.image, self.left, 1) if self.left >= 0 else None)

    def release(self) -> None:
        pass


@pytest.mark.slow
def test_lost_camera_stops_and_keeps_a_valid_recording(weights_path: Path, starry_night: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    device = UnpluggedCamera(frames=20)
    camera = Camera(device, "usb-cam", is_file=False, fps=30, size=SIZE, first=device.read()[1], lost_after=0.3)
    out = tmp_path / "lost.mp4"
    summary = run_live([starry_night], live_config(weights_path, record=str(out)), camera=camera)
    assert summary.stop_reason == "camera 'usb-cam' lost"
    assert "usb-cam" in capsys.readouterr().err
    assert summary.frames_shown >= 5
    assert count_frames_ffmpeg(out) == summary.frames_shown


def test_camera_that_cannot_be_opened_exits_2(weights_path: Path, starry_night: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-camera.mp4"
    for source in (str(missing), "93"):
        rc = main(["live", str(starry_night), "--camera", source, "--no-window", "--size", str(SIZE),
                   "--weights", str(weights_path)])
        err = capsys.readouterr().err
        assert rc == 2 and source in err and err.count("\n") == 1, err


def test_frames_too_small_for_the_flow_exit_2_before_the_session(weights_path: Path, starry_night: Path,
                                                                 tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    wide = make_clip(tmp_path / "wide.mp4", size="96x16", rate="10", frames=3)  # 36x6 frames at --size 36
    argv = ["live", str(starry_night), "--camera", str(wide), "--no-window", "--weights", str(weights_path),
            "--quiet", "--size"]
    assert main([*argv, "36"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "36x6 pixels are too small for optical flow" in err and "--size" in err, err


def test_bad_live_options_exit_2(starry_night: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", str(starry_night), "--iterations", "0", "--no-window"]) == 2
    assert "--iterations" in capsys.readouterr().err
    assert main(["live", f"{starry_night},{starry_night}", "--style-weights", "1,2", "--no-window"]) == 2
    assert "n/p" in capsys.readouterr().err
    # options that mean nothing here are refused, not ignored
    assert main(["live", str(starry_night), "--no-window", "--window-size", "300"]) == 2
    assert "--window-size applies only to the preview window" in capsys.readouterr().err
    # the s key that writes snapshots is the window's: headless, --snapshot-dir means nothing
    assert main(["live", str(starry_night), "--no-window", "--snapshot-dir", "snaps"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vidstyle: error: --snapshot-dir applies only to the preview window") and \
        err.count("\n") == 1 and "--no-window" in err, err
    assert main(["live", str(starry_night), "--no-window", "--optimizer", "lbfgs", "--lr", "0.3"]) == 2
    assert "--lr applies only to --optimizer adam" in capsys.readouterr().err


def test_a_snapshot_folder_that_is_a_file_is_called_one(weights_path: Path, starry_night: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for target, words in ((starry_night, "is a file"), (tmp_path / "absent", "does not exist")):
        # with a window (the folder is checked before the display is opened)
        assert main(["live", str(starry_night), "--weights", str(weights_path), "--snapshot-dir",
                     str(target), "--camera", str(tmp_path / "no-camera.mp4")]) == 2
        assert f"snapshot folder {target} {words}" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY/WAYLAND_DISPLAY are Linux conventions")
def test_no_display_in_window_mode_exits_2(clip: Path, weights_path: Path, starry_night: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["live", str(starry_night), "--camera", str(clip), "--size", str(SIZE), "--weights", str(weights_path)]
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(argv) == 2
    assert "--no-window" in capsys.readouterr().err
    # a display that does not answer: Qt would abort the process; the check in a child process catches it
    dead = next(n for n in range(987, 1100) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{dead}")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--no-window" in err and f":{dead}" in err


# --- the real window on a virtual X server ---------------------------------------------------------------
WINDOW_SCRIPT = """
import sys, cv2
from vidstyle.live import run_live
from vidstyle.live.config import LiveConfig, live_engine_config
from vidstyle.live.display import WINDOW_TITLE
from vidstyle.live.keys import ScriptedKeys
weights, style, clip, out = sys.argv[1:5]
def close_window(status):  # what a click on the window's X does, at frame 6 (then key 0: nothing)
    if status.frames_shown < 6:
        return False
    cv2.destroyWindow(WINDOW_TITLE)
    return True
keys = ScriptedKeys([(2, "h"), (3, "o"), (4, "o"), (close_window, 0), (99, "q")])
engine = live_engine_config(size=48, iterations=2, weights=weights, quiet=True, device="cpu")
s = run_live([style], LiveConfig(engine=engine, camera=clip, record=out, threads=1), keys=[keys])
print("RESULT", s.frames_shown, s.recorded_frames, repr(s.stop_reason))
"""


def _free_display() -> int:
    for n in range(140, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (Debian package xvfb; .ci/run "
                    "installs it when it runs as root with apt-get)")
@pytest.mark.slow
def test_window_on_virtual_display(clip: Path, weights_path: Path, starry_night: Path, tmp_path: Path) -> None:
    n = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            assert xvfb.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        # the window runs in a child process: Qt keeps its X connection for the life of a process, and must
        # not outlive this Xvfb inside the test process
        out = tmp_path / "window.mp4"
        env = {**os.environ, "DISPLAY": f":{n}", "PYTHONPATH": str(REPO)}
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run([sys.executable, "-c", WINDOW_SCRIPT, str(weights_path), str(starry_night), str(clip),
                               str(out)], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        result = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT")).split(maxsplit=3)
        assert result[3] == "'window closed'"  # the window's close was detected (the q at frame 99 never came)
        assert int(result[1]) == int(result[2]) == count_frames_ffmpeg(out) >= 6
    finally:
        xvfb.terminate()
        xvfb.wait(10)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="process-group signals are POSIX")
def test_ctrl_c_in_a_terminal_stops_cleanly_with_a_valid_recording(clip: Path, weights_path: Path,
                                                                   starry_night: Path, tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group, the ffmpeg encoder included: the session must still
    finish the recording itself and exit 0."""
    import signal

    out = tmp_path / "interrupted.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "vidstyle", "live", str(starry_night), "--camera", str(clip),
                             "--no-window", "--size", str(SIZE), "--first-iterations", "2", "--weights",
                             str(weights_path), "--device", "cpu", "--record", str(out)], env={**os.environ, "PYTHONPATH": str(REPO)},
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            # a suite started with SIGINT ignored would pass that on, and Ctrl-C would do nothing
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline()]  # the first frame's progress line, then "camera ...": running
        while lines[-1] and not lines[-1].startswith("vidstyle live: camera") and len(lines) < 3:
            lines.append(proc.stderr.readline())
        assert lines[-1].startswith("vidstyle live: camera"), lines
        time.sleep(0.7)
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.stderr.read()
        assert proc.wait(60) == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted (Ctrl-C)" in err
    shown = int(err.split(" frames shown")[0].split()[-1])
    assert shown >= 3 and count_frames_ffmpeg(out) == shown


def test_record_or_report_never_overwrite_inputs(short_clip: Path, weights_path: Path, starry_night: Path,
                                                  tmp_path: Path) -> None:
    camera = tmp_path / "cam.mp4"
    camera.write_bytes(short_clip.read_bytes())
    with pytest.raises(VidstyleError, match="must differ from the input"):
        run_live([starry_night], live_config(weights_path, camera=str(camera), record=str(camera)))
    with pytest.raises(VidstyleError, match="same file"):
        run_live([starry_night], live_config(weights_path, camera=str(camera), record=str(tmp_path / "r.mp4"),
                                             report=str(tmp_path / "r.mp4")))
    assert camera.read_bytes() == short_clip.read_bytes() and not (tmp_path / "r.mp4").exists()


def test_photo_options_refused_in_live_mode(short_clip: Path, weights_path: Path, starry_night: Path) -> None:
    config = live_config(weights_path, camera=str(short_clip))
    config.engine = config.engine.replace(photo_weight=1e6)
    with pytest.raises(VidstyleError, match="does not support --photo-weight"):
        run_live([starry_night], config)


def test_the_worker_runs_on_every_cpu_core_unless_told() -> None:
    import torch

    from vidstyle.live.config import available_cores

    cpu = torch.device("cpu")
    # one core left to the display made the worker 1.3x slower; the display kept the camera's rate beside it
    assert LiveConfig(engine=Config(size=64)).worker_threads(cpu) == available_cores()
    assert LiveConfig(engine=Config(size=64), threads=1).worker_threads(cpu) == 1
