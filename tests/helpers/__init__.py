"""Helpers shared by the tests (and benchmarks): paths to ../shared and small generated images."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("VIDSTYLE_SHARED", REPO.parent / "shared"))
WEIGHTS = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"
MEDIA = SHARED / "media"


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, textured RGB uint8 test image (no shared media needed)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([np.sin(xx / 7 + c) * np.cos(yy / 9 - c) for c in range(3)], -1)
    img += 0.2 * rng.standard_normal((h, w, 3)).astype(np.float32)
    return np.clip((img * 0.4 + 0.5) * 255, 0, 255).astype(np.uint8)
