"""LiveConfig's validation: what a session refuses before it opens the camera."""
from __future__ import annotations

import pytest

from vidstyle.errors import VidstyleError
from vidstyle.live.config import LiveConfig, live_engine_config


@pytest.mark.parametrize("field, option", [("record", "--record"), ("report", "--report"),
                                           ("snapshot_dir", "--snapshot-dir")])
def test_empty_paths_are_refused_by_option(field: str, option: str) -> None:
    """'' named the current folder: --record '' recorded nothing without a word, a snapshot folder of '' saved
    into the working folder."""
    engine = live_engine_config(device="cpu")
    with pytest.raises(VidstyleError, match=f"^{option} is an empty path$"):
        LiveConfig(engine=engine, **{field: "  "})
    with pytest.raises(VidstyleError, match="must be a path"):
        LiveConfig(engine=engine, **{field: 3})
    assert LiveConfig(engine=engine, **{field: "somewhere"})
