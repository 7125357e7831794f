"""What the clip benchmarks share: where ../shared is and the media/weights arguments pointing into it."""
from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def add_media_arguments(parser: argparse.ArgumentParser) -> None:
    """--weights, --style, --scene and --sprite, defaulting to the shared test weights and paintings."""
    default_weights = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"
    parser.add_argument("--weights", default=str(default_weights) if default_weights.is_file() else None)
    parser.add_argument("--style", default=str(SHARED / "media" / "starry_night.jpg"))
    parser.add_argument("--scene", default=str(SHARED / "media" / "tubingen.jpg"))
    parser.add_argument("--sprite", default=str(SHARED / "media" / "shipwreck.jpg"))
