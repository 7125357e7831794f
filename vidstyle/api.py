"""The Python API: images, videos, frame folders and the webcam, each through its pipeline."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .config import Config
from .io.images import ImageLike
from .live import run_live
from .still import stylize_frame
from .video import stylize_video

__all__ = ["run_live", "stylize_frame", "stylize_image", "stylize_video"]


def stylize_image(content: ImageLike, style: ImageLike | Sequence[ImageLike], config: Config | None = None,
                  progress: Callable[[int, dict[str, float]], None] | None = None) -> np.ndarray:
    """Stylize one image; returns H x W x 3 RGB uint8 at the processing size (``config.size`` long side).
    See ``stylize_frame`` for the arguments."""
    return stylize_frame(content, style, config, progress).image
