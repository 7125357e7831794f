"""Every numeric option fed nan, inf, -inf, a negative, zero and a huge value: a value the option does not
accept is exit 2 with one stderr line naming the option, before anything is written; the others parse."""
from __future__ import annotations

import numpy as np
import pytest

from vidstyle.cli.main import main
from vidstyle.cli.options import config_from_args, ENGINE_FIELDS, VIDEO_FIELDS
from vidstyle.cli.stylize import build_parser
from vidstyle.io.images import write_image
from tests.helpers import smooth_image

HUGE_INT, HUGE_FLOAT = "99999999999999999999", "1e300"
KINDS = ("nan", "inf", "-inf", "negative", "zero", "huge")

# option -> (integer option?, template for the value, kinds that are valid values)
OPTIONS = {
    "--style-layer-weights": (False, "{},1,1", {"zero"}),
    "--content-weight": (False, "{}", {"zero"}),
    "--style-weight": (False, "{}", {"zero"}),
    "--tv-weight": (False, "{}", {"zero"}),
    "--lr": (False, "{}", set()),
    "--iterations": (True, "{}", {"zero"}),
    "--seed": (True, "{}", {"zero"}),
    "--size": (True, "{}", set()),
    "--photo-weight": (False, "{}", {"zero"}),
    "--style-weights": (False, "{},1", {"zero"}),
    "--style-scale": (False, "{}", set()),
    "--scales": (True, "{}", set()),
    "--temporal-weight": (False, "{}", {"zero"}),
    "--first-iterations": (True, "{}", {"zero"}),
    "--start": (False, "{}", {"zero"}),
    "--end": (False, "{}", set()),
    "--max-frames": (True, "{}", set()),
    "--crf": (True, "{}", {"zero"}),
    "--fps": (False, "{}", set()),
}
# live options -> valid kinds (a huge --max-frames just means "until stopped")
LIVE_OPTIONS = {"--threads": set(), "--window-size": set(), "--max-frames": {"huge"}, "--iterations": set(),
                "--size": set()}


def value_for(kind: str, integer: bool) -> str:
    return {"nan": "nan", "inf": "inf", "-inf": "-inf", "negative": "-1", "zero": "0",
            "huge": HUGE_INT if integer else HUGE_FLOAT}[kind]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    frames = root / "frames"
    frames.mkdir()
    for i in range(2):
        write_image(frames / f"{i}.png", smooth_image(12, 16, seed=i))
    write_image(root / "style.png", smooth_image(16, 16, seed=5))
    return frames, root / "style.png"


def run_cli(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_numeric_option_fuzz(option, inputs, tmp_path, capsys, weights_path):
    frames, style = inputs
    integer, template, valid = OPTIONS[option]
    styles = f"{style},{style}"
    base = [str(frames), styles, None, "--preset", "fast", "--weights", str(weights_path), "--quiet",
            "--device", "cpu", "--size", "16", "--iterations", "1"]
    for kind in KINDS:
        value = template.format(value_for(kind, integer))
        out = tmp_path / f"out_{kind}.mp4"
        argv = [*base[:2], str(out), *base[3:], option, value]
        if kind in valid:  # accepted: parses into a Config (the one rule set)
            config_from_args(build_parser().parse_args(argv), ENGINE_FIELDS + VIDEO_FIELDS)
            continue
        code, err = run_cli(argv, capsys)
        assert code == 2, (option, value, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (option, value, err)
        assert option in err, (option, value, err)
        assert list(tmp_path.iterdir()) == [], (option, value)


@pytest.mark.parametrize("option", sorted(LIVE_OPTIONS))
def test_live_numeric_option_fuzz(option, inputs, tmp_path, capsys):
    _, style = inputs
    for kind in sorted(set(KINDS) - LIVE_OPTIONS[option]):
        value = value_for(kind, True)
        code, err = run_cli(["live", str(style), "--no-window", "--device", "cpu", "--camera",
                             str(tmp_path / "none.mp4"), "--record", str(tmp_path / "r.mp4"), option, value], capsys)
        assert code == 2, (option, value, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (option, value, err)
        assert option in err, (option, value, err)
        assert list(tmp_path.iterdir()) == []


def test_negative_values_need_no_equals_sign(capsys):
    """`--style-layer-weights -1,1,1` reaches validation (not 'expected one argument')."""
    code, err = run_cli(["a.png", "b.png", "c.png", "--preset", "fast", "--style-layer-weights", "-1,1,1"], capsys)
    assert code == 2 and "--style-layer-weights must be" in err and "expected one argument" not in err
    assert np.isclose(build_parser().parse_args(["a", "b", "c", "--start", "-.5"]).start, -0.5)
