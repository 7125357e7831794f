"""The Python API for still images: ``stylize_image`` and ``stylize_frame``."""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from .config import Config
from .controls import ControlledStylizer
from .io.images import read_image, resize_long_side
from .optimize import StylizeResult
from .photo import photo_losses, reject_mask_folder

ImageLike = str | os.PathLike | np.ndarray


def load_rgb(image: ImageLike) -> np.ndarray:
    """A path is read from disk; an array must already be H x W x 3 RGB uint8."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("image arrays must be H x W x 3 RGB uint8")
        return image
    return read_image(image)


def stylize_frame(content: ImageLike, style: ImageLike | Sequence[ImageLike], config: Config | None = None,
                  progress: Callable[[int, dict[str, float]], None] | None = None) -> StylizeResult:
    """Stylize one image and return the full result (image, losses, iterations, seconds).

    ``style`` may be one image or a sequence of images, blended by ``config.style_weights`` (default: equally);
    the other style controls of ``config`` (colours, style scale, coarse to fine, photorealism, masks) apply
    too. ``progress`` is called after every iteration with the iteration number and the current losses.
    """
    config = config or Config()
    reject_mask_folder(config)
    styles = [load_rgb(s) for s in style] if isinstance(style, (list, tuple)) else [load_rgb(style)]
    frame = resize_long_side(load_rgb(content), config.size)
    stylizer = ControlledStylizer(config, styles, reference=frame)
    return stylizer.stylize(frame, callback=progress, extra_losses=photo_losses(config, frame, stylizer.device))


def stylize_image(content: ImageLike, style: ImageLike | Sequence[ImageLike], config: Config | None = None,
                  progress: Callable[[int, dict[str, float]], None] | None = None) -> np.ndarray:
    """Stylize one image; returns H x W x 3 RGB uint8 at the processing size (``config.size`` long side).
    See ``stylize_frame`` for the arguments."""
    return stylize_frame(content, style, config, progress).image
