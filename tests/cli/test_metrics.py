"""`vidstyle metrics OUTPUT --reference INPUT [--json]`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.motion_clips import motion_frames, two_shot_frames, write_frames

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
    assert main(["metrics", str(clips["short"]), "--reference", str(clips["ref"])]) == 2
    assert "frame counts differ" in capsys.readouterr().err
    assert main(["metrics", str(tmp_path / "missing.mp4"), "--reference", str(clips["ref"])]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["metrics", str(clips["noise"])])  # --reference is required
    assert exc.value.code == 2
