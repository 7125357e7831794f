"""--init resolved once (engine/build.py): the content frame, seeded white noise or an image, each with one
method producing the start tensor of a frame."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from .colour_modes import ColourMode
from .tensors import to_tensor


class Start:
    """How a frame's optimisation starts when the caller gives no start image."""

    detail = False  # coarse to fine adds the frame's own detail to each upsampled level (engine/pyramid.py)

    def tensor(self, content: torch.Tensor, colour: ColourMode) -> torch.Tensor:
        """The start image for the work image ``content`` (B x 3 x H x W in 0..1) on its device."""
        raise NotImplementedError


class ContentStart(Start):
    """The content frame itself (already in the work image's colours)."""

    detail = True

    def tensor(self, content: torch.Tensor, colour: ColourMode) -> torch.Tensor:
        return content.clone()


class NoiseStart(Start):
    """Seeded white noise (seed 0 when none is given), the same for every frame of a size."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed if seed is not None else 0

    def tensor(self, content: torch.Tensor, colour: ColourMode) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed)
        return colour.start_tensor(torch.rand(content.shape, generator=gen).to(content.device))


class ImageStart(Start):
    """An --init image, resized to each frame."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def tensor(self, content: torch.Tensor, colour: ColourMode) -> torch.Tensor:
        h, w = content.shape[-2:]
        resized = cv2.resize(self.image, (w, h), interpolation=cv2.INTER_AREA)
        return colour.start_tensor(to_tensor(resized, content.device))


def named_start(name: str, seed: int | None) -> Start:
    """The start named by vidstyle/vocab.py's INIT_MODES (an image path is read by engine/build.py)."""
    return {"content": ContentStart, "noise": lambda: NoiseStart(seed)}[name]()
