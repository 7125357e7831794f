"""Which style region each content region takes (engine.regions)."""
from __future__ import annotations

import pytest

from tests.helpers.label_masks import BLUE, GREEN, RED, two_region_mask
from vidstyle.config import Config
from vidstyle.engine.regions import match_labels
from vidstyle.errors import VidstyleError
from vidstyle.io.mask_files import parse_labels


def test_missing_style_label_is_an_error_naming_it() -> None:
    content = parse_labels(two_region_mask(left=RED, right=GREEN))
    style = parse_labels(two_region_mask(left=(250, 3, 2), right=BLUE))  # red within tolerance
    with pytest.raises(VidstyleError, match="#00ff00") as info:
        match_labels(content, style)
    assert "#ff0000" not in str(info.value).split("not found")[0]
    matches = match_labels(content, style, orphan="whole")
    assert matches[content.colors.index(RED)] == style.colors.index((250, 3, 2))
    assert matches[content.colors.index(GREEN)] is None
    with pytest.raises(VidstyleError, match="orphan"):
        Config(orphan_labels="drop")
