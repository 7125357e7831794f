"""The image command end to end and every bad input: one line on stderr, exit 2, nothing written."""
import subprocess
import sys

import pytest

from vidstyle.cli.main import main
from vidstyle.io.images import read_image


def base_args(weights_path, size=32, iterations=2):
    return ["--preset", "fast", "--size", str(size), "--iterations", str(iterations), "--weights",
            str(weights_path), "--device", "cpu", "--seed", "0", "--quiet"]


@pytest.mark.slow
def test_done_when_command_runs_as_a_program(tmp_path, weights_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    cmd = [sys.executable, "-m", "vidstyle", str(tubingen), str(starry_night), str(out), "--size", "64",
           "--iterations", "8", "--preset", "fast", "--weights", str(weights_path), "--device", "cpu", "--seed", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert read_image(out).shape == (48, 64, 3)
    assert "wrote" in proc.stderr and "ETA" in proc.stderr  # progress bar with ETA on stderr


def test_help_documents_every_option_with_default(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--preset", "--pooling", "--weights-format", "--optimizer", "--iterations", "--init", "--seed",
                   "--size", "--device", "--quiet", "--overwrite", "--tv-weight", "--style-layer-weights"):
        assert option in text
    assert "default: paper" in text and "default: avg" in text and "default: lbfgs" in text


def expect_exit_2(capsys, argv, needle):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("case, needle", [
    ("missing_content", "not found"),
    ("corrupt_content", "cannot decode"),
    ("missing_style", "not found"),
    ("bad_output_ext", "unsupported output"),
    ("paper_with_partial_weights", "lacks conv4_1"),
    ("unknown_layer", "unknown VGG-19 layer"),
    ("bad_choice", "invalid choice"),
    ("cuda_unavailable", "no CUDA GPU"),
    ("corrupt_weights", "cannot read weights"),
    ("missing_weights", "weights file not found"),
    ("output_dir_missing", "does not exist"),
    ("nan_weight", "finite number"),
    ("empty_style_item", "empty style image name"),
    ("huge_size", "at most 65535"),
    ("frame_option_on_image", "--start applies only to videos"),
])
def test_bad_input_exit_2_and_no_output(tmp_path, capsys, weights_path, tubingen, starry_night, case, needle):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    out = tmp_path / "out.png"
    content, style, extra = str(tubingen), str(starry_night), []
    args = base_args(weights_path)
    if case == "missing_content":
        content = str(tmp_path / "nope.jpg")
    elif case == "corrupt_content":
        content = str(corrupt)
    elif case == "missing_style":
        style = str(tmp_path / "nope.jpg")
    elif case == "bad_output_ext":
        out = tmp_path / "out.xyz"
    elif case == "paper_with_partial_weights":
        extra = ["--preset", "paper"]
    elif case == "unknown_layer":
        extra = ["--style-layers", "relu1_1,relu7_7"]
    elif case == "bad_choice":
        extra = ["--pooling", "median"]
    elif case == "cuda_unavailable":
        if __import__("torch").cuda.is_available():
            pytest.skip("a CUDA GPU is present")
        extra = ["--device", "cuda"]
    elif case == "corrupt_weights":
        extra = ["--weights", str(corrupt)]
    elif case == "missing_weights":
        extra = ["--weights", str(tmp_path / "none.pth")]
    elif case == "output_dir_missing":
        out = tmp_path / "nodir" / "out.png"
    elif case == "nan_weight":
        extra = ["--style-weight", "nan"]
    elif case == "empty_style_item":
        style = f"{starry_night},"
    elif case == "huge_size":
        extra = ["--size", "1000000"]
    elif case == "frame_option_on_image":
        extra = ["--start", "2"]
    expect_exit_2(capsys, [content, style, str(out), *args, *extra], needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.jpg"]  # nothing written, no temp files


def test_offline_without_weights(tmp_path, capsys, monkeypatch, tubingen, starry_night):
    monkeypatch.setenv("VIDSTYLE_WEIGHTS_URL", "http://127.0.0.1:9/vgg19-dcbb9e9d.pth")
    args = ["--preset", "fast", "--size", "32", "--iterations", "1", "--quiet"]
    expect_exit_2(capsys, [str(tubingen), str(starry_night), str(tmp_path / "o.png"), *args], "--weights PATH")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_existing_output_kept_without_overwrite(tmp_path, capsys, weights_path, tubingen, starry_night):
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    expect_exit_2(capsys, [str(tubingen), str(starry_night), str(out), *base_args(weights_path)], "--overwrite")
    assert out.read_bytes() == b"precious"
    assert main([str(tubingen), str(starry_night), str(out), *base_args(weights_path), "--overwrite"]) == 0
    assert read_image(out).shape == (24, 32, 3)


def test_interrupt_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch, weights_path, tubingen, starry_night):
    from vidstyle.engine import Stylizer

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(Stylizer, "stylize", interrupted)
    code = main([str(tubingen), str(starry_night), str(tmp_path / "o.png"), *base_args(weights_path)])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_style_weights_with_one_style_are_refused(tmp_path, capsys, weights_path, tubingen, starry_night):
    """--style-weights blends several STYLE images; with one it meant nothing and was silently ignored."""
    from vidstyle.io.images import write_image

    frames = tmp_path / "frames"
    frames.mkdir()
    write_image(frames / "f1.png", read_image(tubingen)[:32, :32])
    for content, out in ((tubingen, tmp_path / "o.png"), (frames, tmp_path / "o.mp4")):
        expect_exit_2(capsys, [str(content), str(starry_night), str(out), *base_args(weights_path),
                               "--style-weights", "1"], "--style-weights blends several STYLE images")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]  # nothing written, no work directory
