"""The look of a stylized clip over time: style strength and content fidelity of every written frame.

Both figures are ratios of distances measured under one FIXED network -- VGG-19 with the fast preset's layers
(style: relu1_1, relu2_1, relu3_1, Gram matrices divided by their number of positions; content: relu3_2,
a per-element mean) -- whatever losses the run itself optimised, so they stay comparable across loss
settings and loss units:

* style strength = style distance(content frame, style) / style distance(stylized frame, style): how many
  times closer to the painting's statistics the frame is than the photo it came from (1 = not stylized);
* content fidelity = content distance(painting resized to the frame, content frame) / content
  distance(stylized frame, content frame): how many times closer to the photo's structure the frame is than
  the painting itself (1 = no more recognisable than the painting).

A video that fades back towards the photo loses style strength over time; one that drifts away from the
content loses fidelity. ``drift`` compares every frame's figures to the first frame of its shot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import cv2
import numpy as np
import torch

from ..errors import VidstyleError
from ..engine.tensors import to_tensor
from ..io.images import resize_long_side
from ..model.losses import normalized_gram
from .warping import WarpingError, warping_error

LOOK_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1")
LOOK_CONTENT_LAYER = "relu3_2"


def _grams(features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per style layer: F F^T / M (M = positions), the size-independent Gram."""
    return {name: normalized_gram(features[name]) for name in LOOK_STYLE_LAYERS}


def style_distance(grams: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> float:
    """Mean over the style layers of sum((G - A)^2) / (4 N^2) with normalised Grams (Gatys eq. 4's form)."""
    terms = [float((grams[n] - target[n]).pow(2).sum()) / (4 * grams[n].shape[-1] ** 2) for n in LOOK_STYLE_LAYERS]
    return float(np.mean(terms))


@dataclass
class FrameLook:
    """The four distances of one frame and the two ratios built from them."""

    style: float  # style distance of the stylized frame to the style
    photo_style: float  # style distance of the content frame to the style
    content: float  # content distance of the stylized frame to the content frame
    painting_content: float  # content distance of the painting (resized to the frame) to the content frame

    @property
    def style_strength(self) -> float:
        return self.photo_style / self.style if self.style > 0 else float("inf")

    @property
    def content_fidelity(self) -> float:
        return self.painting_content / self.content if self.content > 0 else float("inf")

    def as_dict(self) -> dict[str, float | None]:
        """JSON-ready (a ratio over a zero distance, i.e. the content frame itself, becomes None)."""
        def finite(value: float) -> float | None:
            return value if np.isfinite(value) else None
        return {"style_strength": finite(self.style_strength), "content_fidelity": finite(self.content_fidelity),
                "style_distance": self.style, "photo_style_distance": self.photo_style,
                "content_distance": self.content, "painting_content_distance": self.painting_content}


@dataclass
class ShotLook:
    """How well one shot keeps the look of its first frame (frames ``start`` .. ``stop`` - 1)."""

    start: int
    stop: int
    style_mean: float  # mean style kept over the shot's last ``tail`` frames
    style_worst: float  # lowest style kept over the shot
    content_mean: float  # mean content kept over the shot's last ``tail`` frames
    content_worst: float  # lowest content kept over the shot
    tail: int  # frames the means are taken over (at most SUMMARY_TAIL, fewer in a short shot)

    def as_dict(self) -> dict[str, float | int]:
        return {"start": self.start, "stop": self.stop, "tail": self.tail, "style_kept_mean": self.style_mean,
                "style_kept_worst": self.style_worst, "content_kept_mean": self.content_mean,
                "content_kept_worst": self.content_worst}


SUMMARY_TAIL = 10  # a shot's "mean kept" is over its last 10 frames: where a slow fade shows


@dataclass
class LookOverTime:
    """Per-frame looks of a clip and where its shots start; ``drift()`` gives each frame's figures relative to
    the first frame of its shot (a cut starts a new reference: a new scene has a look of its own)."""

    frames: list[FrameLook] = field(default_factory=list)
    shot_changes: list[int] = field(default_factory=list)  # frames that start a new shot (frame 0 always does)

    def shot_starts(self) -> list[int]:
        """First frame of every shot, in order (0 first)."""
        return sorted({0, *(i for i in self.shot_changes if 0 < i < len(self.frames))})

    def drift(self) -> list[tuple[float, float]]:
        """(style strength, content fidelity) of every frame divided by its shot's first frame's (1 = that look)."""
        out: list[tuple[float, float]] = []
        starts = set(self.shot_starts())
        s0 = c0 = 1.0
        for i, f in enumerate(self.frames):
            if i in starts:
                s0, c0 = f.style_strength, f.content_fidelity
            out.append((f.style_strength / s0, f.content_fidelity / c0))
        return out

    def kept(self, index: int) -> tuple[float, float]:
        """Frame ``index``'s share of its shot's first frame's style strength and content fidelity."""
        return self.drift()[index]

    def shots(self, tail: int = SUMMARY_TAIL) -> list[ShotLook]:
        """Per shot: mean kept over its last ``tail`` frames and the worst frame (the first frame counts: 1)."""
        drift = self.drift()
        bounds = self.shot_starts() + [len(self.frames)]
        out = []
        for start, stop in zip(bounds, bounds[1:]):
            style, content = (np.array([d[k] for d in drift[start:stop]]) for k in (0, 1))
            n = min(tail, stop - start)
            out.append(ShotLook(start, stop, float(style[-n:].mean()), float(style.min()),
                                float(content[-n:].mean()), float(content.min()), n))
        return out

    def as_dict(self) -> dict[str, object]:
        drift = self.drift()
        return {"layers": {"style": list(LOOK_STYLE_LAYERS), "content": LOOK_CONTENT_LAYER},
                "shots": [s.as_dict() for s in self.shots()],
                "per_frame": [{**f.as_dict(), "style_kept": d[0], "content_kept": d[1]}
                              for f, d in zip(self.frames, drift, strict=True)]}


class LookMeter:
    """Measures ``FrameLook``s against one style image under the fixed fast-preset VGG layers.

    ``weights`` / ``weights_format`` are resolved like the stylizer's (--weights, $VIDSTYLE_WEIGHTS, ...).
    The style image is scaled to the frame's long side for its Grams (vidstyle's default --style-scale 1)
    and to the frame's exact size as the "painting" whose content distance is the fidelity's yardstick.
    """

    def __init__(self, style: np.ndarray, *, weights: str | None = None, weights_format: str = "auto",
                 device: torch.device | str = "cpu", quiet: bool = True) -> None:
        from ..engine.build import load_encoder

        if style.ndim != 3 or style.shape[2] != 3 or style.dtype != np.uint8:
            raise VidstyleError("the style image must be H x W x 3 RGB uint8")
        self.device = torch.device(device)
        self.encoder = load_encoder(weights, weights_format, (*LOOK_STYLE_LAYERS, LOOK_CONTENT_LAYER), "avg",
                                    self.device, quiet=quiet)
        self.style = style
        self._per_size: dict[tuple[int, int], tuple[dict[str, torch.Tensor], torch.Tensor]] = {}

    def _style_targets(self, h: int, w: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """(style Grams at the frame's long side, relu3_2 of the painting resized to h x w), cached per size."""
        if (h, w) not in self._per_size:
            grams = _grams(self.encoder(to_tensor(resize_long_side(self.style, max(h, w)), self.device)))
            painting = cv2.resize(self.style, (w, h), interpolation=cv2.INTER_AREA)
            content = self.encoder(to_tensor(painting, self.device))[LOOK_CONTENT_LAYER]
            self._per_size[(h, w)] = (grams, content)
        return self._per_size[(h, w)]

    @torch.inference_mode()
    def measure(self, stylized: np.ndarray, content: np.ndarray) -> FrameLook:
        """The look of one written frame (RGB uint8) made from ``content`` (resized to it when sizes differ)."""
        h, w = stylized.shape[:2]
        if content.shape[:2] != (h, w):
            content = cv2.resize(content, (w, h), interpolation=cv2.INTER_AREA)
        style_grams, painting = self._style_targets(h, w)
        out = self.encoder(to_tensor(stylized, self.device))
        photo = self.encoder(to_tensor(content, self.device))
        target = photo[LOOK_CONTENT_LAYER]
        return FrameLook(style=style_distance(_grams(out), style_grams),
                         photo_style=style_distance(_grams(photo), style_grams),
                         content=float((out[LOOK_CONTENT_LAYER] - target).pow(2).mean()),
                         painting_content=float((painting - target).pow(2).mean()))


def measure_clip(frames: Iterable[np.ndarray], reference_frames: Iterable[np.ndarray], meter: LookMeter, *,
                 quality: str, longer_reference: bool = False) -> tuple[WarpingError, LookOverTime]:
    """Warping error and look over time of a written clip on one decode: `vidstyle metrics --style`'s figures.

    The look is relative to the first frame of each shot the reference shows (its shot changes)."""
    look = LookOverTime()
    result = warping_error(frames, reference_frames, quality=quality, longer_reference=longer_reference,
                           on_frame=lambda out, ref: look.frames.append(meter.measure(out, ref)))
    look.shot_changes = list(result.shot_changes)
    return result, look
