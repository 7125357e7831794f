"""Colour preservation (--preserve-colors) as one strategy object, chosen once by engine/build.py.

``none`` optimises the colour frame as it is; ``histogram`` matches the style images' colours to the content
first; ``luminance`` (Gatys et al. 2016, "Preserving colour") optimises the luminance only and gives the
output the frame's own chroma. Everything that differs between them lives here: the style images' colours,
the image the network sees (work image), the start image, the delivered image and its differentiable
version, so the stylizer never asks which mode is in force.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..color import luminance_image, match_color_histogram, recombine_luminance
from .tensors import grey_tensor, to_image, to_tensor

ColourFn = Callable[[torch.Tensor], torch.Tensor]


class ColourMode:
    """No colour preservation: every step is the identity."""

    recombines = False  # the delivered image is made on the host from the optimised one and the frame

    def match_styles(self, styles: list[np.ndarray], content: np.ndarray) -> list[np.ndarray] | None:
        """The style images with their colours matched to ``content``, or None where they stay as given."""
        return None

    def work(self, content: np.ndarray) -> np.ndarray:
        """The image the network is fed for an 8-bit frame or output."""
        return content

    def start_image(self, init: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """A caller's start image (the previous stylized frame) in the optimised image's colours."""
        return init

    def start_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """A noise or --init image start (1 x 3 x H x W) in the optimised image's colours."""
        return x

    def deliver(self, image: np.ndarray, content: np.ndarray) -> np.ndarray:
        """The 8-bit image the user gets from the optimised 8-bit image of ``content``."""
        return image

    def function(self, colour_frame: np.ndarray | None, device: torch.device) -> ColourFn:
        """The delivered image as a differentiable function of the optimised one (what TV and photo see)."""
        return lambda x: x

    def chroma_buffer(self, shape: torch.Size, device: torch.device) -> torch.Tensor | None:
        """A persistent problem's buffer for the frames' chroma, or None where the mode needs none (then
        ``chroma`` and ``recombine`` are never called)."""
        return None

    def chroma(self, frames: torch.Tensor) -> torch.Tensor:
        """What a chroma buffer holds for ``frames`` (B x 3 x H x W in 0..1)."""
        raise NotImplementedError

    def recombine(self, x: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        """The delivered image from the optimised one and a chroma buffer (differentiable)."""
        raise NotImplementedError


class HistogramMode(ColourMode):
    """The style images' colour histograms matched to the content's (then optimised as usual)."""

    def match_styles(self, styles: list[np.ndarray], content: np.ndarray) -> list[np.ndarray] | None:
        return [match_color_histogram(s, content) for s in styles]


class LuminanceMode(ColourMode):
    """Luminance-only transfer: grey style, work and start images; the frame's chroma added back."""

    recombines = True

    def match_styles(self, styles: list[np.ndarray], content: np.ndarray) -> list[np.ndarray] | None:
        return [luminance_image(s, match_to=content) for s in styles]

    def work(self, content: np.ndarray) -> np.ndarray:
        return luminance_image(content)

    def start_image(self, init: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        return luminance_image(to_image(init) if isinstance(init, torch.Tensor) else init)

    def start_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return grey_tensor(x).contiguous()

    def deliver(self, image: np.ndarray, content: np.ndarray) -> np.ndarray:
        return recombine_luminance(image, content)

    def function(self, colour_frame: np.ndarray | None, device: torch.device) -> ColourFn:
        if colour_frame is None:  # coarser levels: no colour frame, the optimised image itself
            return lambda x: x
        chroma = self.chroma(to_tensor(colour_frame, device))
        return lambda x: self.recombine(x, chroma)

    def chroma_buffer(self, shape: torch.Size, device: torch.device) -> torch.Tensor | None:
        return torch.zeros(shape, device=device)

    def chroma(self, frames: torch.Tensor) -> torch.Tensor:
        """The frames' chroma: the colour minus its luma."""
        return frames - grey_tensor(frames)

    def recombine(self, x: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        """The optimised image's luma plus ``chroma``."""
        return (grey_tensor(x) + chroma).clamp(0, 1)


# keyed by vidstyle/vocab.py's COLOR_MODES (tests/engine/test_resolved_parts.py checks the two agree)
COLOUR_MODES: dict[str, ColourMode] = {"none": ColourMode(), "luminance": LuminanceMode(),
                                       "histogram": HistogramMode()}
