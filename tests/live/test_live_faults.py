"""Live mode's leftovers: the temporary recording of a session that was killed is removed by the next one."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.clips import count_frames_ffmpeg, make_clip
from tests.io.temps import stale_temp
from vidstyle.live.config import LiveConfig, live_engine_config
from vidstyle.live.session import run_live


@pytest.mark.slow
def test_stale_temporaries_of_a_killed_session_are_cleaned(tmp_path: Path, weights_path: Path,
                                                            starry_night: Path) -> None:
    camera = make_clip(tmp_path / "cam.mp4", size="64x48", rate="30", frames=10)
    record, report = tmp_path / "rec.mp4", tmp_path / "live.json"
    stale = [stale_temp(record, "video"), stale_temp(record), stale_temp(report)]  # made by a session now gone
    kept = stale_temp(tmp_path / "other.mp4", "video")  # another output's: not this session's to clean
    engine = live_engine_config(size=32, iterations=1, weights=str(weights_path), quiet=True, device="cpu")
    run_live([starry_night], LiveConfig(engine=engine, camera=str(camera), window=False, max_frames=3,
                                        record=str(record), report=str(report)))
    assert count_frames_ffmpeg(record) == 3 and report.is_file()
    assert not any(p.exists() for p in stale) and kept.exists()
