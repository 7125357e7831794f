"""`vidstyle metrics OUTPUT --reference INPUT [--json]`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from samples.motion_clips import motion_frames, two_shot_frames, write_frames

from vidstyle.cli.main import main
from vidstyle.io.encode import VideoWriter
from vidstyle.io.images import read_image


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, tubingen: Path) -> dict[str, Path]:
    """A 5-frame pan as an mp4 (reference) and as PNGs, plus independent noise frames as the 'output'."""
    root = tmp_path_factory.mktemp("metrics")
    frames = list(motion_frames("pan", read_image(tubingen), frames=5, width=64, height=48))
    with VideoWriter(root / "ref.mp4", 25, crf=0) as writer:
        for f in frames:
            writer.write(f)
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, f.shape, dtype=np.uint8) for f in frames]
    return {"ref": root / "ref.mp4", "ref_dir": write_frames(root / "ref_dir", frames),
            "noise": write_frames(root / "noise", noise), "short": write_frames(root / "short", noise[:3])}


def test_text_report(clips: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", str(clips["noise"]), "--reference", str(clips["ref"])]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["frames", "5"]
    err = float(next(line for line in lines if line.startswith("warping error")).split()[-1])
    floor = float(next(line for line in lines if line.startswith("input's own")).split()[-1])
    assert err > 0.05 and 0 < floor < 0.01
    assert "x the input's" in out
    rows = [line for line in lines if line.strip() and line.split()[0].isdigit()]
    assert [int(r.split()[0]) for r in rows] == [1, 2, 3, 4]


def test_json_report(clips: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", str(clips["ref_dir"]), "--reference", str(clips["ref"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frames"] == 5 and len(data["per_frame"]) == 4 == len(data["reference_per_frame"])
    # the lossless PNGs of the reference differ from its (crf 0, yuv420p) encoding only slightly
    assert data["warping_error"] == pytest.approx(data["reference_warping_error"], rel=0.5)
    assert data["shot_changes"] == []


def test_shot_changes_reported(tmp_path: Path, tubingen: Path, starry_night: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    frames = two_shot_frames(read_image(tubingen), read_image(starry_night), first=2, second=2, width=64, height=48)
    clip = write_frames(tmp_path / "two", frames)
    assert main(["metrics", str(clip), "--reference", str(clip)]) == 0
    out = capsys.readouterr().out
    assert "shot changes         2 (left out of the means)" in out


def test_errors_exit_2(clips: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", str(clips["noise"]), "--reference", str(clips["short"])]) == 2  # OUTPUT longer
    assert "frame counts differ" in capsys.readouterr().err
    assert main(["metrics", str(tmp_path / "missing.mp4"), "--reference", str(clips["ref"])]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["metrics", str(clips["noise"])])  # --reference is required
    assert exc.value.code == 2


def test_empty_paths_are_refused_by_name(clips: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """'' read the current folder as a frame folder (and failed on whatever images it held)."""
    noise, ref = str(clips["noise"]), str(clips["ref"])
    for argv, option in ((["", "--reference", ref], "OUTPUT"), ([noise, "--reference", ""], "--reference"),
                         ([noise, "--reference", ref, "--style", ""], "--style")):
        assert main(["metrics", *argv]) == 2
        assert capsys.readouterr().err.strip() == f"vidstyle: error: {option} is an empty path"


def test_longer_reference_compares_the_matching_frames(clips: dict[str, Path], tmp_path: Path, tubingen: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A run made with --max-frames (a prefix) or --start (frames 2..4 of the 25 fps reference) is graded
    against the frames it was made from: the reference's own frames score like the reference."""
    frames = read_frames_sorted(clips["ref_dir"])
    prefix = write_frames(tmp_path / "prefix", frames[:3])
    assert main(["metrics", str(prefix), "--reference", str(clips["ref"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frames"] == 3 and data["reference_longer"] is True
    assert data["warping_error"] == pytest.approx(data["reference_warping_error"], rel=0.5)
    tail = write_frames(tmp_path / "tail", frames[2:])
    assert main(["metrics", str(tail), "--reference", str(clips["ref"]), "--start", "0.08", "--json"]) == 0
    aligned = json.loads(capsys.readouterr().out)
    assert aligned["frames"] == 3 and aligned["reference_longer"] is False
    assert aligned["warping_error"] == pytest.approx(aligned["reference_warping_error"], rel=0.5)
    # a moving disc tells the frames apart: without --start the flows belong to frames two steps earlier
    moving = list(motion_frames("object", read_image(tubingen), frames=6, width=64, height=48))
    reference, late = write_frames(tmp_path / "object", moving), write_frames(tmp_path / "late", moving[2:])
    assert main(["metrics", str(late), "--reference", str(reference), "--start", "0.08", "--fps", "25",
                 "--json"]) == 0
    matched = json.loads(capsys.readouterr().out)
    assert matched["warping_error"] == pytest.approx(matched["reference_warping_error"], rel=0.1)
    assert main(["metrics", str(late), "--reference", str(reference), "--json"]) == 0
    shifted = json.loads(capsys.readouterr().out)
    assert shifted["reference_longer"] is True and shifted["warping_error"] > 3 * matched["warping_error"]
    assert main(["metrics", str(tail), "--reference", str(clips["ref"]), "--max-frames", "2"]) == 2
    assert "frame counts differ" in capsys.readouterr().err


@pytest.mark.slow
def test_look_over_time(clips: dict[str, Path], tmp_path: Path, starry_night: Path, weights_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """--style adds per-frame style strength and content fidelity of the written frames and their drift from
    frame 0: frames blended further and further towards the painting gain strength and lose fidelity."""
    import cv2

    painting = read_image(starry_night)
    frames = read_frames_sorted(clips["ref_dir"])
    target = cv2.resize(painting, frames[0].shape[1::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
    out = [np.clip(f * (1 - t) + target * t + 0.5, 0, 255).astype(np.uint8)
           for f, t in zip(frames, (0.2, 0.35, 0.5, 0.65, 0.8))]
    clip = write_frames(tmp_path / "blend", out)
    args = ["metrics", str(clip), "--reference", str(clips["ref"]), "--style", str(starry_night),
            "--weights", str(weights_path)]
    assert main([*args, "--json"]) == 0
    per = json.loads(capsys.readouterr().out)["look"]["per_frame"]
    assert len(per) == 5 and per[0]["style_kept"] == 1.0 == per[0]["content_kept"]
    strength = [p["style_strength"] for p in per]
    fidelity = [p["content_fidelity"] for p in per]
    assert strength == sorted(strength) and strength[-1] > 2 * strength[0]
    assert fidelity == sorted(fidelity, reverse=True) and per[-1]["content_kept"] < 0.5
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "look over time" in text
    rows = [r for r in text.split("look over time")[1].splitlines()[2:] if r.split()[0].isdigit()]
    assert [int(r.split()[0]) for r in rows] == [0, 1, 2, 3, 4]
    assert "shot 1 (frames 0-4)" in text
    assert main([*args[:-2], "--weights", str(tmp_path / "missing.pth")]) == 2
    assert "weights file not found" in capsys.readouterr().err


def read_frames_sorted(directory: Path) -> list[np.ndarray]:
    return [read_image(p) for p in sorted(directory.glob("*.png"))]


@pytest.mark.slow
def test_look_per_shot(tmp_path: Path, tubingen: Path, starry_night: Path, weights_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    """With --style, a cut in the reference starts a new reference for "kept", and every shot gets one summary
    line (mean kept over its last frames, worst frame)."""
    import cv2

    painting = read_image(starry_night)
    frames = two_shot_frames(read_image(tubingen), painting, first=3, second=3, width=64, height=48)
    target = cv2.resize(painting, (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
    out = [np.clip(f * (1 - t) + target * t + 0.5, 0, 255).astype(np.uint8)
           for f, t in zip(frames, (0.8, 0.6, 0.4, 0.3, 0.3, 0.3))]
    reference, clip = write_frames(tmp_path / "ref", frames), write_frames(tmp_path / "out", out)
    args = ["metrics", str(clip), "--reference", str(reference), "--style", str(starry_night),
            "--weights", str(weights_path)]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    per, shots = data["look"]["per_frame"], data["look"]["shots"]
    assert data["shot_changes"] == [3] and per[3]["style_kept"] == 1.0 == per[3]["content_kept"]
    assert per[2]["style_kept"] < 0.9  # the first shot fades; frame 3 is not compared with it
    assert [(s["start"], s["stop"]) for s in shots] == [(0, 3), (3, 6)]
    assert shots[0]["style_kept_worst"] == pytest.approx(per[2]["style_kept"])
    assert shots[0]["style_kept_mean"] == pytest.approx(np.mean([p["style_kept"] for p in per[:3]]))
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"shot 1 (frames 0-2): style kept {shots[0]['style_kept_mean']:.2f} mean of the last 3, " \
           f"{shots[0]['style_kept_worst']:.2f} worst" in text
    assert "shot 2 (frames 3-5)" in text and "    3 " in text and "new shot" in text
