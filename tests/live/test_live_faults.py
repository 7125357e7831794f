"""Live mode's leftovers: the temporary recording of a session that was killed is removed by the next one."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.clips import count_frames_ffmpeg, make_clip
from vidstyle.live.config import LiveConfig, live_engine_config
from vidstyle.live.session import run_live


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_a_killed_session_are_cleaned(tmp_path: Path, weights_path: Path,
                                                            starry_night: Path) -> None:
    camera = make_clip(tmp_path / "cam.mp4", size="64x48", rate="30", frames=10)
    record, report = tmp_path / "rec.mp4", tmp_path / "live.json"
    pid = dead_pid()
    stale = [tmp_path / f".rec.mp4.{pid}.abcdefgh.video.mp4", tmp_path / f".rec.mp4.{pid}.abcdefgh.part.mp4",
             tmp_path / f".live.json.{pid}.abcdefgh.part.json"]
    kept = tmp_path / f".other.mp4.{pid}.abcdefgh.video.mp4"  # another output's: not this session's to clean
    for p in [*stale, kept]:
        p.write_bytes(b"half a recording")
    engine = live_engine_config(size=32, iterations=1, weights=str(weights_path), quiet=True, device="cpu")
    run_live([starry_night], LiveConfig(engine=engine, camera=str(camera), window=False, max_frames=3,
                                        record=str(record), report=str(report)))
    assert count_frames_ffmpeg(record) == 3 and report.is_file()
    assert not any(p.exists() for p in stale) and kept.exists()
