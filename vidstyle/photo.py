"""Photorealistic mode glue (Luan et al. 2017): per-frame photorealism loss and per-frame semantic masks.

The pipelines call ``photo_losses`` once per frame and pass the result to ``Stylizer.stylize(extra_losses=)``;
the masked style loss itself lives in the engine (``Stylizer`` reads ``config.style_mask`` and a single-file
``config.content_mask``; ``MaskSequence`` serves a folder of per-frame content masks to the video pipelines).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .config import Config
from .errors import VidstyleError
from .io.images import is_image_path
from .model.masks import LabelMap, read_label_mask
from .model.matting import matting_laplacian, photorealism_loss
from .optimize import ExtraLoss


def photo_losses(config: Config, frame: np.ndarray, device: torch.device) -> list[ExtraLoss]:
    """The photorealism term for one content frame (its matting Laplacian built on ``device``); [] when off."""
    weight = config.resolved_photo_weight()
    if weight <= 0:
        return []
    return [photorealism_loss(matting_laplacian(frame, device=device), weight)]


class MaskSequence:
    """Content masks for a sequence of frames: one file for every frame, or a folder with one file per frame.

    Folder files are taken in sorted name order (frame_0001.png, frame_0002.png, ...): frame i uses file i.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir() if p.is_file() and is_image_path(p))
            if not self.files:
                raise VidstyleError(f"mask folder {self.path} holds no image files")
            self._single: LabelMap | None = None
        elif self.path.is_file():
            self.files = [self.path]
            self._single = read_label_mask(self.path)
        else:
            raise VidstyleError(f"content mask not found: {self.path}")

    def __len__(self) -> int:
        return len(self.files)

    def for_frame(self, index: int) -> LabelMap:
        """The labels of frame ``index`` (0-based)."""
        if self._single is not None:
            return self._single
        if index >= len(self.files):
            raise VidstyleError(f"mask folder {self.path} has {len(self.files)} masks but the input has more frames")
        return read_label_mask(self.files[index])
