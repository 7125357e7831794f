"""Photorealistic mode glue (Luan et al. 2017): per-frame photorealism loss and per-frame semantic masks.

The pipelines call ``photo_losses`` once per frame and pass the result to ``Stylizer.stylize(extra_losses=)``;
the masked style loss itself lives in the engine (``Stylizer`` reads ``config.style_mask`` and a single-file
``config.content_mask``; ``MaskSequence`` serves a folder of per-frame content masks to the video pipelines).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from .config import Config
from .errors import VidstyleError
from .io.frames import list_frames
from .model.masks import LabelMap, read_label_mask
from .model.matting import matting_laplacian, photorealism_loss
from .optimize import ExtraLoss


def photo_losses(config: Config, frame: np.ndarray, device: torch.device) -> list[ExtraLoss]:
    """The photorealism term for one content frame (its matting Laplacian built on ``device``); [] when off."""
    weight = config.resolved_photo_weight()
    if weight <= 0:
        return []
    return [photorealism_loss(matting_laplacian(frame, device=device), weight)]


def reject_mask_folder(config: Config) -> None:
    """A single image needs a single content mask file, not a folder of per-frame masks."""
    if config.content_mask and Path(config.content_mask).is_dir():
        raise VidstyleError("--content-mask must be an image file for an image input (folders are for videos)")


def mask_identity(config: Config) -> dict[str, str] | None:
    """What identifies the mask files' contents (for a video work directory's fingerprint); None without masks."""
    if not config.content_mask or not config.style_mask:
        return None
    paths = {"style": Path(config.style_mask), "content": Path(config.content_mask)}
    ident = {}
    for name, path in paths.items():
        files = list_frames(path) if path.is_dir() else [path]
        ident[name] = hashlib.sha256("\n".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                                               for f in files if f.exists()).encode()).hexdigest()[:16]
    return ident


class MaskSequence:
    """Content masks for a sequence of frames: one file for every frame, or a folder with one file per frame.

    Folder files are taken in natural order like frame folders (frame_2.png before frame_10.png): input
    frame i uses file i. ``frames``: how many input frames will be asked for (checked up front when known, else 0).
    """

    def __init__(self, path: str | os.PathLike, frames: int = 0) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self.files = list_frames(self.path)
            if frames > len(self.files):
                raise VidstyleError(f"mask folder {self.path} has {len(self.files)} masks for {frames} frames")
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
