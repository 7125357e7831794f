"""Style controls (issue 6): colour preservation, style blending, style scale and coarse-to-fine optimisation.

``ControlledStylizer`` is a drop-in ``Stylizer`` (same constructor, ``stylize``, ``evaluate``) that applies the
"style controls" section of ``Config``. With the defaults it behaves exactly like ``Stylizer``.

* ``preserve_colors`` (Gatys et al. 2016, "Preserving colour in neural artistic style transfer"):
  ``histogram`` transforms every style image's colours so that their mean and covariance equal the reference
  content's (``color.match_color_histogram``) before the Grams are computed. ``luminance`` runs the whole
  optimisation on luminance images (Y replicated to three channels; the style luminance matched to the
  reference content's mean and standard deviation) and puts the result's luminance together with the frame's
  own chroma (``color.recombine_luminance``).
* ``style_weights``: several style images, their Gram targets blended with weights normalised to sum 1.
* ``style_scale`` F: each style image is resized to F x the content's long side before its Grams are computed
  (F < 1 gives larger brush strokes relative to the output, F > 1 smaller ones).
* ``scales`` N (coarse to fine): the frame is optimised at N resolutions, each half the next, the finest being
  the processing size; each result, upsampled (bicubic), is the next resolution's start image.

**How the iteration budget is split.** ``iterations`` stays the budget in passes *at the processing size*, so a
coarse-to-fine run costs about what a single-scale run with the same ``--iterations`` costs. A pass at a
resolution with a quarter of the pixels costs about a quarter, so coarse passes are cheap: three quarters of the
budget's compute go to the finest resolution and one quarter is shared equally by the coarser ones, i.e.
resolution k below the finest (k = 1..N-1) gets ``iterations / 4 / (N-1) * 4**k`` passes. Example:
``--iterations 300 --scales 3`` runs 600 passes at 1/4 size, 150 at 1/2 size and 225 at full size. (Measured on
the 128 px Tuebingen photo, fast preset, 40 passes: a quarter beat an eighth and a half; with ``--init noise``
two scales reach a 5-9 % lower loss than one, with ``--init content`` the two are within a few per cent, either
way.) Progress callbacks report completed work in full-size-pass equivalents, so a progress bar over
``iterations`` stays right. With ``--init content`` each upsampled result gets the frame's own fine detail (the
band the coarser resolution could not hold) added back before the next resolution starts.

**Reference content and video.** Histogram matching and the luminance matching of the style need content
statistics; they are taken from a *reference* frame once (the ``reference`` argument, else the first frame
passed to ``stylize``) so the Gram targets are computed once and stay fixed over a video: no per-frame
recomputation and no flicker from per-frame re-matching. For a video every frame's own chroma is used in
luminance mode. Coarse to fine is applied to frames that start from scratch (no ``init`` given: an image, the
first frame of a video or of a shot, frames of a video processed independently); a frame given an ``init`` (the
previous stylized frame warped by the optical flow) is already close to the answer and is optimised at the
processing size only, with the full ``iterations``. ``extra_losses`` (temporal consistency, photorealism) are
functions of the full-size output, so they are used at the finest resolution only; in luminance mode they see
the *recombined* colour image (differentiably: output luminance plus the frame's chroma), i.e. the same kind
of image as the previous outputs they compare against.
"""
from __future__ import annotations

import time
from typing import Sequence

import cv2
import numpy as np
import torch

from .color import luminance_image, match_color_histogram, recombine_luminance
from .config import Config
from .errors import VidstyleError
from .model.masks import LabelMap
from .optimize import Callback, ExtraLoss, Stylizer, StylizeResult, to_tensor

MIN_SIDE = 16  # smallest long side the network is run on (coarsest scale, scaled style image)
_LUMA = (0.299, 0.587, 0.114)


def scale_plan(iterations: int, scales: int) -> list[tuple[int, int]]:
    """(halvings below the processing size, passes) per resolution, coarsest first; see the module docstring."""
    if scales <= 1:
        return [(0, iterations)]
    coarse_share = iterations / 4 / (scales - 1)
    plan = [(k, round(coarse_share * 4 ** k)) for k in range(scales - 1, 0, -1)]
    return plan + [(0, iterations - round(coarse_share * (scales - 1)))]


def grey_tensor(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of a 1x3xHxW RGB tensor, replicated to three channels (differentiable)."""
    w = x.new_tensor(_LUMA).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand_as(x)


class ControlledStylizer(Stylizer):
    """A ``Stylizer`` that applies the style controls of ``config`` (see the module docstring).

    ``style_weights`` defaults to ``config.style_weights`` (then equal weights). ``reference``: the content
    image whose colour statistics the style is matched to (histogram / luminance modes); default: the first
    frame given to ``stylize`` or ``evaluate``.
    """

    def __init__(self, config: Config, style: np.ndarray | Sequence[np.ndarray], *,
                 style_weights: Sequence[float] | None = None, reference: np.ndarray | None = None) -> None:
        styles = [style] if isinstance(style, np.ndarray) else list(style)
        weights = config.style_weights if style_weights is None else style_weights
        if weights is not None and len(weights) != len(styles):
            raise VidstyleError(f"--style-weights has {len(weights)} values for {len(styles)} style images")
        super().__init__(config, styles, style_weights=weights)
        self.raw_styles = list(self.styles)
        self.mode = config.preserve_colors
        self.reference: np.ndarray | None = None
        if reference is not None:
            self.set_reference(reference)

    # --- style side -------------------------------------------------------------------------------
    def set_reference(self, content: np.ndarray) -> None:
        """Match the style images to ``content`` (histogram / luminance modes); drops cached Gram targets."""
        self.reference = content
        if self.mode == "none":
            return
        if self.mode == "histogram":
            self.styles = [match_color_histogram(s, content) for s in self.raw_styles]
        else:
            self.styles = [luminance_image(s, match_to=content) for s in self.raw_styles]
        self._style_cache.clear()

    def _ensure_reference(self, content: np.ndarray) -> None:
        if self.reference is None:
            self.set_reference(content)

    def style_side(self, long_side: int) -> int:
        """--style-scale: style images are resized to ``style_scale`` x the frame's long side."""
        side = round(self.config.style_scale * long_side)
        if side < MIN_SIDE:
            raise VidstyleError(f"--style-scale {self.config.style_scale:g} makes the style image {side} px "
                                f"(long side) for a {long_side} px frame; it must be at least {MIN_SIDE} px")
        return side

    # --- content side -----------------------------------------------------------------------------
    def initial_image(self, content: torch.Tensor) -> torch.Tensor:
        """``config.init`` as for ``Stylizer``; grey in luminance mode."""
        x = super().initial_image(content)
        return grey_tensor(x).contiguous() if self.mode == "luminance" else x

    def _wrap_extra(self, content: np.ndarray, extra_losses: Sequence[ExtraLoss]) -> list[ExtraLoss]:
        """Luminance mode: extra losses see the recombined colour output (luma of x + the frame's chroma)."""
        if self.mode != "luminance" or not extra_losses:
            return list(extra_losses)
        c = to_tensor(content, self.device)
        chroma = c - grey_tensor(c)  # RGB minus its luma: what recombination adds back

        def colour(x: torch.Tensor) -> torch.Tensor:
            return (grey_tensor(x) + chroma).clamp(0, 1)

        return [lambda x, f=f: f(colour(x)) for f in extra_losses]

    def stylize(self, content: np.ndarray, *, init: np.ndarray | None = None, iterations: int | None = None,
                extra_losses: Sequence[ExtraLoss] = (), callback: Callback | None = None,
                mask: LabelMap | None = None) -> StylizeResult:
        """Like ``Stylizer.stylize``, with colour preservation and coarse to fine applied (``mask`` at every scale)."""
        start = time.perf_counter()
        self._ensure_reference(content)
        iterations = self.config.iterations if iterations is None else iterations
        work = luminance_image(content) if self.mode == "luminance" else content
        if init is not None and self.mode == "luminance":
            init = luminance_image(init)
        extra = self._wrap_extra(content, extra_losses)
        plan = scale_plan(iterations, self.config.scales if init is None else 1)
        _check_scales(work, plan)
        result: StylizeResult | None = None
        done, passes_run = 0.0, 0  # full-size pass equivalents, passes at any size
        for index, (k, passes) in enumerate(plan):
            finest = index == len(plan) - 1
            frame = work if k == 0 else _resize(work, _scaled_shape(work, k), cv2.INTER_AREA)
            if result is not None:
                init = _upsample_init(result.image, frame, detail=self.config.init == "content")
            cost, offset = 4.0 ** -k, done
            step = None if callback is None else (
                lambda i, losses, cost=cost, offset=offset: callback(min(iterations, round(offset + i * cost)), losses))
            result = super().stylize(frame, init=init, iterations=passes, extra_losses=extra if finest else (),
                                     callback=step, mask=mask)
            done += result.iterations * cost
            passes_run += result.iterations
        assert result is not None
        image = recombine_luminance(result.image, content) if self.mode == "luminance" else result.image
        return StylizeResult(image, result.losses, passes_run, time.perf_counter() - start)

    def evaluate(self, image: np.ndarray, content: np.ndarray, mask: LabelMap | None = None) -> dict[str, float]:
        """Eq. 7's components; in luminance mode measured on the luminance images (what is optimised)."""
        self._ensure_reference(content)
        if self.mode == "luminance":
            image, content = luminance_image(image), luminance_image(content)
        return super().evaluate(image, content, mask)


def _scaled_shape(image: np.ndarray, halvings: int) -> tuple[int, int]:
    h, w = image.shape[:2]
    return max(1, round(h / 2 ** halvings)), max(1, round(w / 2 ** halvings))


def _resize(image: np.ndarray, shape: tuple[int, ...], interpolation: int) -> np.ndarray:
    return cv2.resize(image, (shape[1], shape[0]), interpolation=interpolation)


def _upsample_init(coarse: np.ndarray, frame: np.ndarray, detail: bool) -> np.ndarray:
    """The coarse result resized to ``frame`` (bicubic); with ``detail``, plus the frame's own detail band.

    The detail band (the frame minus its down- and re-upsampled copy) is what the coarse resolution could not
    hold; adding it back gives the next resolution the same fine structure a single-scale run starts from.
    """
    up = _resize(coarse, frame.shape, cv2.INTER_CUBIC).astype(np.float32)
    if detail:
        low = _resize(_resize(frame, coarse.shape, cv2.INTER_AREA), frame.shape, cv2.INTER_CUBIC)
        up += frame.astype(np.float32) - low.astype(np.float32)
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)


def _check_scales(content: np.ndarray, plan: list[tuple[int, int]]) -> None:
    coarsest = max(_scaled_shape(content, plan[0][0]))
    if coarsest < MIN_SIDE:
        raise VidstyleError(f"--scales {len(plan)} halves the {max(content.shape[:2])} px frame down to "
                            f"{coarsest} px; use fewer scales (the coarsest must be at least {MIN_SIDE} px)")
