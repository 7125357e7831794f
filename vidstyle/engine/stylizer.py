"""The stylizer: eq. 7's optimisation for one frame, with the network and style targets built once.

``build_stylizer(config, style)`` (engine/build.py) resolves the Config once into ``EngineParts``; the
stylizer only ever sees those and honours every control (colour preservation, blending, style scale, coarse
to fine, masks, photorealism). Per frame, callers may add terms (the temporal term of a video frame) and give
an init image (the previous stylized frame, warped). Adam runs the persistent, capturable pass of step.py
over one problem per frame size (problems.py); L-BFGS runs torch's implementation eagerly.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from ..color import luminance_image, recombine_luminance
from ..errors import VidstyleError
from ..io.mask_files import LabelMap
from .optimizers import Callback, Objective, floats, run_lbfgs
from .parts import EngineParts
from .problems import Problems
from .pyramid import coarse_to_fine
from .regions import match_labels, region_style_targets
from .tensors import grey_tensor, one_hot, to_image, to_tensor
from .step import LossReader, Problem
from .terms import Term, compose, content_term, photo_term, style_term, tv_term


@dataclass
class StylizeResult:
    """One stylized frame with the losses of exactly that (8-bit) image."""

    image: np.ndarray  # H x W x 3 RGB uint8
    losses: dict[str, float]
    iterations: int
    seconds: float


class Stylizer:
    """Holds the encoder and the style targets; ``stylize`` optimises one frame, ``evaluate`` measures one."""

    def __init__(self, parts: EngineParts, *, temporal_slot: bool = False) -> None:
        """``parts``: resolved by ``build.assemble`` (``build_stylizer`` is the constructor from a Config);
        ``temporal_slot``: every frame's problem holds a temporal term (a flow video: the first frame and cuts
        load an empty one), so all frames share one problem and one captured pass."""
        self.parts = parts
        self.problems = Problems(self.parts, temporal_slot)

    @property
    def device(self) -> torch.device:
        return self.parts.device

    def weight(self, term: str) -> float:
        """The weight of a built-in term: content (alpha), style (beta), tv or photo (lambda)."""
        return self.parts.weights[term]

    def set_weight(self, term: str, value: float) -> None:
        """Change a built-in term's weight for the following frames (live mode's +/- keys change beta)."""
        if term not in self.parts.weights:
            raise VidstyleError(f"unknown loss term {term!r}; choose from {', '.join(self.parts.weights)}")
        if not (math.isfinite(value) and value >= 0):
            raise VidstyleError(f"the {term} weight must be a finite number >= 0, got {value}")
        self.parts.weights[term] = float(value)
        self.problems.set_weight(term, float(value))

    def set_reference(self, content: np.ndarray) -> None:
        """Match the style colours to ``content`` (colour preservation); default: the first frame stylized."""
        self.parts.targets.set_reference(content)
        self.problems.clear()

    # --- one frame ------------------------------------------------------------------------------------
    def stylize(self, content: np.ndarray, *, init: np.ndarray | None = None, iterations: int | None = None,
                terms: Sequence[Term] = (), callback: Callback | None = None,
                mask: LabelMap | None = None) -> StylizeResult:
        """Optimise an image for ``content`` for ``iterations`` passes (default: the configured number).

        ``init``: start image (default: the configured --init, with coarse to fine); ``terms``: extra terms of
        this frame, seen at the processing size; ``mask``: this frame's semantic labels (default: the single
        content mask of the configuration). The returned losses are those of the returned 8-bit image.
        """
        start = time.perf_counter()
        p = self.parts
        if p.targets.reference is None:
            p.targets.set_reference(content)
        if init is not None and init.shape != content.shape:
            raise VidstyleError(f"init image is {init.shape[1]}x{init.shape[0]}, content is "
                                f"{content.shape[1]}x{content.shape[0]}")
        luminance = p.color_mode == "luminance"
        work = luminance_image(content) if luminance else content
        if init is not None and luminance:
            init = luminance_image(init)

        finest: list[Problem] = []  # holds this frame's data: measures the delivered image without rebuilding
        delivered: list[dict[str, float]] = []

        finest_terms: list[Term] = []  # L-BFGS: the terms it used, to measure the delivered image

        def once(level: np.ndarray, level_init: np.ndarray | None, passes: int, last: bool,
                 step: Callback | None) -> tuple[np.ndarray, int]:
            if p.optimizer == "lbfgs":
                image, ran, finest_terms[:] = self._optimise_lbfgs(level, content if last else None, level_init,
                                                                   passes, list(terms) if last else [], step, mask)
                return image, ran
            problem, ran = self._optimise(level, content if last else None, level_init, passes,
                                          list(terms) if last else [], step, mask)
            finest[:] = [problem]
            if last and not luminance:
                images, delivered[:] = self._deliver(problem)
                return images[0], ran
            return to_image(problem.best_x), ran

        image, ran = coarse_to_fine(once, work, init, p.iterations if iterations is None else iterations,
                                    p.scales if init is None else 1, detail=isinstance(p.init, str) and
                                    p.init == "content", callback=callback)
        if p.optimizer == "lbfgs":
            out = recombine_luminance(image, content) if luminance else image
            return StylizeResult(out, self._measure(out, content, finest_terms), ran, time.perf_counter() - start)
        if not luminance:
            return StylizeResult(image, delivered[0], ran, time.perf_counter() - start)
        out = recombine_luminance(image, content)
        return StylizeResult(out, self._delivered(finest[0], [out])[0], ran, time.perf_counter() - start)

    def stylize_batch(self, contents: Sequence[np.ndarray], *, iterations: int | None = None,
                      callback: Callback | None = None) -> list[StylizeResult]:
        """Optimise B independent frames of one size as one batch (Adam): the same images as B separate
        ``stylize`` calls, in one problem (--temporal none chunks, several live styles on one GPU).

        Built-in terms only (no masks, photorealism or extra terms) and one scale; the callback sees sample 0.
        """
        start = time.perf_counter()
        p = self.parts
        if not contents:
            return []
        if len({c.shape for c in contents}) != 1:
            raise VidstyleError("the frames of a batch must all have the same size")
        if p.optimizer != "adam" or p.scales != 1:
            raise VidstyleError("a batch of frames is optimised with Adam at one scale (--optimizer adam, --scales 1)")
        if p.targets.reference is None:
            p.targets.set_reference(contents[0])
        luminance = p.color_mode == "luminance"
        c = torch.cat([to_tensor(luminance_image(f) if luminance else f, self.device) for f in contents])
        problem = self.problems.load(c, list(contents), None, ())
        x = torch.cat([self._initial(c[i:i + 1]) for i in range(c.shape[0])])
        passes = self._run(problem, x, p.iterations if iterations is None else iterations, callback)
        if luminance:
            outs = [recombine_luminance(to_image(problem.best_x[i:i + 1]), f) for i, f in enumerate(contents)]
            losses = self._delivered(problem, outs)
        else:
            outs, losses = self._deliver(problem)
        seconds = time.perf_counter() - start
        return [StylizeResult(out, loss, passes, seconds) for out, loss in zip(outs, losses)]

    def _deliver(self, problem: Problem) -> tuple[list[np.ndarray], list[dict[str, float]]]:
        """The 8-bit images of ``problem``'s best images and their losses: quantised and measured on the device
        right behind the optimisation, then both read back (no upload of the image, no second round trip)."""
        with torch.no_grad():
            levels = problem.best_x.clamp(0, 1).mul(255).round()
            parts, total = problem.losses(levels / 255)
            values = torch.cat([parts, total[None]]).t()
            pixels = levels.to(torch.uint8).permute(0, 2, 3, 1)
        images = list(pixels.cpu().numpy())
        names = [*problem.names, "total"]
        return images, [dict(zip(names, row)) for row in values.cpu().tolist()]

    def _delivered(self, problem: Problem, images: list[np.ndarray]) -> list[dict[str, float]]:
        """Each term's value and the total of 8-bit images (luminance mode: the recombined colour images the
        user gets), by the problem that made them (its buffers still hold the frames' data)."""
        luminance = self.parts.color_mode == "luminance"
        x = torch.cat([to_tensor(luminance_image(i) if luminance else i, self.device) for i in images])
        with torch.no_grad():
            parts, total = problem.losses(x)
        rows = torch.cat([parts, total[None]]).t().tolist()
        return [dict(zip([*problem.names, "total"], row)) for row in rows]

    def evaluate(self, image: np.ndarray, content: np.ndarray, mask: LabelMap | None = None,
                 terms: Sequence[Term] = ()) -> dict[str, float]:
        """Every term's value and the total for ``image`` (8-bit RGB) as the stylization of ``content``."""
        if self.parts.targets.reference is None:
            self.parts.targets.set_reference(content)
        work = luminance_image(content) if self.parts.color_mode == "luminance" else content
        frame_terms, _ = self._frame_terms(work, content, mask)
        return self._measure(image, content, frame_terms + list(terms))

    def _measure(self, image: np.ndarray, content: np.ndarray, terms: list[Term]) -> dict[str, float]:
        luminance = self.parts.color_mode == "luminance"
        x = to_tensor(luminance_image(image) if luminance else image, self.device)
        with torch.no_grad():
            return floats(compose(terms, self.parts.features(x), self._colour(content)(x)))

    # --- internals ------------------------------------------------------------------------------------
    def _optimise(self, work: np.ndarray, colour_frame: np.ndarray | None, init: np.ndarray | None, passes: int,
                  extra: list[Term], callback: Callback | None,
                  mask: LabelMap | None) -> tuple[Problem, int]:
        """One optimisation at one resolution; ``colour_frame`` is the content at the processing size (None at
        coarser levels, where only content, style and TV apply)."""
        c = to_tensor(work, self.device)
        problem = self.problems.load(c, None if colour_frame is None else [colour_frame], mask, extra)
        x = to_tensor(init, self.device) if init is not None else self._initial(c)
        return problem, self._run(problem, x, passes, callback)

    def _run(self, problem: Problem, x: torch.Tensor, passes: int, callback: Callback | None) -> int:
        """``passes`` Adam passes from ``x``; the best image ends in ``problem.best_x``."""
        problem.start(x, passes)
        step = self.problems.stepper(problem)
        reader = LossReader(problem) if callback is not None else None
        for done in range(1, passes + 1):
            step()
            if reader is not None and callback is not None:
                callback(done, reader.after_pass(done))
        problem.check_finite()
        return passes

    def _optimise_lbfgs(self, work: np.ndarray, colour_frame: np.ndarray | None, init: np.ndarray | None,
                        passes: int, extra: list[Term], callback: Callback | None,
                        mask: LabelMap | None) -> tuple[np.ndarray, int, list[Term]]:
        """torch's L-BFGS over the frame's terms (eager: its line search reads the host; the CPU default)."""
        frame_terms, c = self._frame_terms(work, colour_frame, mask)
        all_terms = frame_terms + extra
        x = (to_tensor(init, self.device) if init is not None else self._initial(c)).requires_grad_(True)
        colour = self._colour(colour_frame)
        objective = Objective(lambda: compose(all_terms, self.parts.features(x), colour(x)), x, passes, callback)
        if passes > 0:
            run_lbfgs(x, objective, self.parts.lr)
        return to_image(x), objective.done, all_terms

    def _frame_terms(self, work: np.ndarray, colour_frame: np.ndarray | None,
                     mask: LabelMap | None) -> tuple[list[Term], torch.Tensor]:
        """Content, style, TV and photorealism terms bound to one frame, and the frame as a tensor (the
        reference maths, used to measure delivered images)."""
        p = self.parts
        c = to_tensor(work, self.device)
        with torch.no_grad():
            feats = p.features(c)
        long_side = max(work.shape[:2])
        style_targets: dict = p.targets.grams(long_side)
        labels = mask if mask is not None else p.content_labels
        if labels is not None:
            if p.targets.labels is None:
                raise VidstyleError("a content mask needs a style mask (--style-mask)")
            labels.check_fits(work.shape, "content")
            matches = match_labels(labels, p.targets.labels, p.orphan_labels)
            masks = one_hot(labels.resized(*work.shape[:2]), self.device)
            style_targets = region_style_targets(feats, masks, matches, p.targets.regions(long_side), style_targets)
        terms = [content_term({n: feats[n].detach() for n in p.content_layers}, p.weights["content"], p.units),
                 style_term(style_targets, p.style_layers, p.weights["style"], p.units)]
        if p.weights["tv"] > 0:
            terms.append(tv_term(p.weights["tv"], p.units))
        if p.weights["photo"] > 0 and colour_frame is not None:
            terms.append(photo_term(colour_frame, p.weights["photo"], p.units, self.device))
        return terms, c

    def _initial(self, content: torch.Tensor) -> torch.Tensor:
        """--init: the content frame, seeded white noise, or an image resized to the frame (grey in luminance
        mode, like the frame)."""
        p = self.parts
        if isinstance(p.init, np.ndarray):
            h, w = content.shape[-2:]
            x = to_tensor(cv2.resize(p.init, (w, h), interpolation=cv2.INTER_AREA), self.device)
        elif p.init == "noise":
            gen = torch.Generator().manual_seed(p.seed if p.seed is not None else 0)
            x = torch.rand(content.shape, generator=gen).to(self.device)
        else:
            return content.clone()
        return grey_tensor(x).contiguous() if p.color_mode == "luminance" else x

    def _colour(self, colour_frame: np.ndarray | None):
        """The output image as the user gets it, from the optimised image: in luminance mode the optimised
        luma plus the frame's own chroma (differentiable), else the image itself."""
        if self.parts.color_mode != "luminance" or colour_frame is None:
            return lambda x: x
        c = to_tensor(colour_frame, self.device)
        chroma = c - grey_tensor(c)
        return lambda x: (grey_tensor(x) + chroma).clamp(0, 1)
