"""The command on hostile inputs: data loss, elongated images, Ctrl-C during start-up, and two image runs
racing for one OUTPUT."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from vidstyle.cli.main import main
from vidstyle.io.images import read_image, write_image
from tests.helpers import REPO, smooth_image


def args(weights_path, iterations=1):
    return ["--preset", "fast", "--size", "32", "--iterations", str(iterations), "--weights", str(weights_path), "--device",
            "cpu", "--seed", "0", "--quiet"]


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_overwrite_into_a_folder_holding_the_inputs_is_refused(tmp_path, capsys, weights_path):
    proj = tmp_path / "proj"
    (proj / "frames").mkdir(parents=True)
    for i in range(2):
        write_image(proj / "frames" / f"{i}.png", smooth_image(24, 32, seed=i))
    write_image(proj / "style.png", smooth_image(32, 32, seed=9))
    (proj / "notes.txt").write_text("keep")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, err = run([str(proj / "frames"), str(proj / "style.png"), str(proj), "--overwrite", *args(weights_path)],
                    capsys)
    assert code == 2 and "lies inside OUTPUT" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (proj / "notes.txt").read_text() == "keep"


def test_elongated_content_or_style_is_one_line(tmp_path, capsys, weights_path):
    write_image(tmp_path / "wide.png", smooth_image(1, 2000))
    write_image(tmp_path / "ok.png", smooth_image(32, 32))
    for content, style in (("wide.png", "ok.png"), ("ok.png", "wide.png")):
        code, err = run([str(tmp_path / content), str(tmp_path / style), str(tmp_path / "o.png"),
                         *args(weights_path)], capsys)
        assert code == 2 and "needs at least 4 on each side" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.png", "wide.png"]


def command(*argv, python_options=()):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, *python_options, "-m", "vidstyle", *map(str, argv)],
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO, preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """In the child, before exec: SIGINT back to its default. A suite started from a script's background job
    (``python -m pytest &``) runs with SIGINT ignored, which a child inherits; Python then installs no
    KeyboardInterrupt handler and the Ctrl-C below would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


IMPORT_TIME = "import time:"


def test_ctrl_c_during_start_up_is_one_line(tmp_path, weights_path, tubingen, starry_night):
    """Ctrl-C while the command is still loading torch and OpenCV. Readiness comes from Python's own
    ``-X importtime`` trace: it prints a line on stderr as each import completes, and the first import that
    completes after ``vidstyle.cli.main`` is one the CLI makes inside its error handling, while torch is still
    to come. The signal is sent then, with no sleep."""
    proc = command(tubingen, starry_night, tmp_path / "o.png", *args(weights_path), python_options=["-X", "importtime"])
    assert proc.stderr is not None
    seen: list[str] = []
    main_loaded = False
    for line in proc.stderr:
        seen.append(line)
        if main_loaded:
            break
        main_loaded = line.startswith(IMPORT_TIME) and line.split("|")[-1].strip() == "vidstyle.cli.main"
    assert main_loaded, "".join(seen)
    proc.send_signal(signal.SIGINT)
    err = "".join(seen) + proc.communicate(timeout=60)[1]
    imported = {line.split("|")[-1].strip() for line in err.splitlines() if line.startswith(IMPORT_TIME)}
    said = [line for line in err.splitlines() if not line.startswith(IMPORT_TIME)]
    assert "vidstyle.cli.stylize" not in imported, "the signal came after start-up"
    assert proc.returncode == 130, err
    assert said == ["vidstyle: interrupted"], said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_two_image_runs_on_one_output(tmp_path, weights_path, tubingen, starry_night):
    """Without --overwrite exactly one run writes OUTPUT; the other exits 2 (checked again at commit)."""
    out = tmp_path / "o.png"
    procs = [command(tubingen, starry_night, out, *args(weights_path, iterations=0)) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    err = next(e for c, e in results if c == 2)
    assert len(err.strip().splitlines()) == 1 and "--overwrite" in err
    assert read_image(out).shape == (24, 32, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]  # no temporary file left
