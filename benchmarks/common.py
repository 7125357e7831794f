"""What the clip benchmarks share: where ../shared is and the media/weights arguments pointing into it."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIDSTYLE_SHARED", REPO.parent / "shared"))  # as the tests find it
MEDIA = SHARED / "media"
WEIGHTS = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


def add_media_arguments(parser: argparse.ArgumentParser) -> None:
    """--weights, --style, --scene and --sprite, defaulting to the shared test weights and paintings."""
    parser.add_argument("--weights", default=str(WEIGHTS) if WEIGHTS.is_file() else None)
    parser.add_argument("--style", default=str(MEDIA / "starry_night.jpg"))
    parser.add_argument("--scene", default=str(MEDIA / "tubingen.jpg"))
    parser.add_argument("--sprite", default=str(MEDIA / "shipwreck.jpg"))
