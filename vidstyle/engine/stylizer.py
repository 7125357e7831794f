"""The stylizer: eq. 7's optimisation for one frame, with the network and style targets built once.

``make_stylizer(settings, style)`` (engine/build.py) turns the resolved settings into ``EngineParts``; the
stylizer only ever sees those and honours every control (colour preservation, blending, style scale, coarse
to fine, masks, photorealism). Per frame, callers may add terms (the temporal term of a video frame) and give
an init image (the previous stylized frame, warped). L-BFGS and Adam both run the persistent, capturable
pass of step.py over one problem per frame size (problems.py).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..errors import VidstyleError
from ..io.images import check_frame, value_kind
from ..io.mask_files import LabelMap
from .convergence import CAP, CONVERGED
from .optimizers import Callback, floats
from .parts import EngineParts
from .problems import Problems
from .pyramid import coarse_to_fine
from .regions import match_labels, region_style_targets
from .tensors import one_hot, to_image, to_tensor
from .step import LossReader, Problem
from .terms import Term, compose, content_term, photo_term, style_term, tv_term


@dataclass
class StylizeResult:
    """One stylized frame with the losses of exactly that (8-bit) image."""

    image: np.ndarray  # H x W x 3 RGB uint8
    losses: dict[str, float]
    iterations: int
    seconds: float
    # the same image kept on the engine's device, 1 x 3 x H x W float32 levels / 255 (exactly to_tensor(image)),
    # so a flow video carries its previous output without an upload; None where it was made on the host
    pixels: torch.Tensor | None = None
    # on a device that captures passes (CUDA): "captured", or "eager: <why>" (masks, photorealism, a caller's
    # term, --no-capture); None where nothing is captured (the CPU), so nothing is said
    capture: str | None = None
    # why its optimisation ended: "converged" (the stopping rule, engine/convergence.py, ended it before the
    # cap) or "cap" (every pass of the budget was spent)
    stopped: str = CAP


def _start_tensor(init: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """An init image as the engine's 1 x 3 x H x W float32 in 0..1: an HxWx3 uint8 array is uploaded, a tensor
    already in that layout (values 0..1) is used on ``device`` as it is."""
    if isinstance(init, torch.Tensor):
        return init.to(device=device, dtype=torch.float32)
    return to_tensor(init, device)


def _check_init(init: object, content: np.ndarray) -> None:
    """An init image is an HxWx3 uint8 array (the frame rule, io/images.check_frame) or a 1x3xHxW float tensor
    (the engine's layout; its values are not read here, which would wait for the device), of the content's size."""
    if isinstance(init, torch.Tensor):
        if init.ndim != 4 or tuple(init.shape[:2]) != (1, 3) or not init.is_floating_point():
            raise VidstyleError(f"init must be a 1 x 3 x H x W float tensor in 0..1 (or an H x W x 3 RGB uint8 "
                                f"array), got a {init.dtype} tensor of shape {tuple(init.shape)}")
        h, w = init.shape[-2:]
    elif isinstance(init, np.ndarray):
        h, w = check_frame(init, "init").shape[:2]
    else:
        raise VidstyleError(f"init must be an H x W x 3 RGB uint8 array or a 1 x 3 x H x W float tensor, got "
                            f"{value_kind(init)}")
    if (h, w) != content.shape[:2]:
        raise VidstyleError(f"init image is {w}x{h}, content is {content.shape[1]}x{content.shape[0]}")


class Stylizer:
    """Holds the encoder and the style targets; ``stylize`` optimises one frame, ``evaluate`` measures one."""

    def __init__(self, parts: EngineParts, *, temporal_slot: bool = False) -> None:
        """``parts``: made by ``build.assemble`` (``build.make_stylizer`` is the one constructor);
        ``temporal_slot``: every frame's problem holds a temporal term (a flow video: the first frame and cuts
        load an empty one), so all frames share one problem and one captured pass."""
        self.parts = parts
        self.problems = Problems(self.parts, temporal_slot)
        self._last: Problem | None = None  # the problem of the frame just delivered, while it can be resumed
        self._stopped = CAP  # how the latest optimisation (the finest level of a frame) ended
        self._running: Problem | None = None  # the problem whose passes are running (``current_image``)

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
        check_frame(content, "content")
        self.parts.targets.set_reference(content)
        self.problems.clear()
        self._last = None

    # --- one frame ------------------------------------------------------------------------------------
    def stylize(self, content: np.ndarray, *, init: np.ndarray | torch.Tensor | None = None, iterations: int | None = None,
                terms: Sequence[Term] = (), callback: Callback | None = None,
                mask: LabelMap | None = None, measure: bool = True) -> StylizeResult:
        """Optimise an image for ``content`` for ``iterations`` passes (default: the configured number).

        ``init``: start image (default: the configured --init, with coarse to fine), an HxWx3 uint8 array or a
        1x3xHxW float tensor in 0..1 (the engine's layout; on its device it is used without a copy through the
        host, so a video's previous output never leaves the device); ``terms``: extra terms of
        this frame, seen at the processing size; ``mask``: this frame's semantic labels (default: the single
        content mask of the configuration). The returned losses are those of the returned 8-bit image.
        ``measure=False``: the last pass's image is delivered as it is, neither compared with the images the
        passes started from nor measured (``losses`` empty), and the loss scale is the previous frame's: three
        forwards fewer per frame, which live mode's two-pass updates spend on passes instead. Only for a frame
        at one scale without colour recombination (an ``init`` given, no luminance mode); any other frame is
        measured as usual.
        """
        start = time.perf_counter()
        p = self.parts
        check_frame(content, "content")
        if init is not None:
            _check_init(init, content)
        if p.targets.reference is None:
            p.targets.set_reference(content)
        work = p.colour.work(content)
        if init is not None:
            init = p.colour.start_image(init)

        self._last = None
        scales = p.scales if init is None else 1
        measure = measure or scales != 1 or p.colour.recombines
        return self._frame_persistent(content, work, init, p.iterations if iterations is None else iterations,
                                      scales, list(terms), callback, mask, start, measure)

    def _frame_persistent(self, content: np.ndarray, work: np.ndarray, init: np.ndarray | torch.Tensor | None,
                          iterations: int, scales: int, terms: list[Term], callback: Callback | None,
                          mask: LabelMap | None, began: float, measure: bool = True) -> StylizeResult:
        """One frame with the optimiser's persistent pass; the delivered image measured by the problem that made
        it."""
        colour = self.parts.colour
        finest: list[Problem] = []  # holds this frame's data: measures the delivered image without rebuilding
        delivered: list[dict[str, float]] = []
        kept: list[torch.Tensor] = []  # the delivered images, still on the device

        def once(level: np.ndarray, level_init: np.ndarray | torch.Tensor | None, passes: int, last: bool,
                 step: Callback | None) -> tuple[np.ndarray, int]:
            problem, ran = self._optimise(level, content if last else None, level_init, passes,
                                          terms if last else [], step, mask, measure)
            finest[:] = [problem]
            if last and not colour.recombines:
                images, delivered[:], kept[:] = self._deliver(problem, measure)  # the frame's one host read
                return images[0], ran
            problem.check_finite()
            return to_image(problem.best_x), ran

        image, ran = coarse_to_fine(once, work, init, iterations, scales, detail=self.parts.start.detail,
                                    callback=callback)
        capture = self._capture_status(finest[0])
        if not colour.recombines:
            self._last = finest[0] if scales == 1 else None
            return StylizeResult(image, delivered[0], ran, time.perf_counter() - began, kept[0], capture,
                                 self._stopped)
        out = colour.deliver(image, content)
        return StylizeResult(out, self._delivered(finest[0], [out])[0], ran, time.perf_counter() - began,
                             capture=capture, stopped=self._stopped)

    def _capture_status(self, problem: Problem) -> str | None:
        """StylizeResult.capture for a frame whose finest level ran ``problem``."""
        if not self.problems.accelerator.captures:
            return None
        why = self.problems.capture_refusal(problem)
        return "captured" if why is None else f"eager: {why}"

    def current_image(self) -> np.ndarray | None:
        """For a ``callback``: the 8-bit image the frame's last finished pass made, unmeasured (live mode
        shows an update's earlier passes while the rest run). None outside the passes, and where that image
        is not what the user gets (luminance mode recombines it with the frame's colours). A host read."""
        problem = self._running
        if problem is None or self.parts.colour.recombines:
            return None
        return to_image(problem.x)

    def resume(self, passes: int, callback: Callback | None = None) -> StylizeResult | None:
        """``passes`` more passes for the frame ``stylize`` just delivered, from its delivered image, over the
        buffers that still hold its data: no upload and no new forward of the content (a flow video's
        budget top-up). None where that frame cannot be continued so (luminance, coarse to fine):
        the caller then stylizes it again from its image."""
        problem = self._last
        if problem is None:
            return None
        began = time.perf_counter()
        with torch.no_grad():  # from the delivered 8-bit image, as a new start from it would be
            start = problem.best_x.clamp(0, 1).mul(255).round().div(255)
        ran = self._run(problem, start, passes, callback)
        images, losses, kept = self._deliver(problem)
        return StylizeResult(images[0], losses[0], ran, time.perf_counter() - began, kept[0],
                             self._capture_status(problem), self._stopped)

    def stylize_batch(self, contents: Sequence[np.ndarray], *, iterations: int | None = None,
                      callback: Callback | None = None) -> list[StylizeResult]:
        """Optimise B independent frames of one size as one batch (Adam): the same images as B separate
        ``stylize`` calls, in one problem (--temporal none chunks, several live styles on one GPU).

        Built-in terms only (no masks, photorealism or extra terms) and one scale; the callback sees sample 0.
        """
        start = time.perf_counter()
        p = self.parts
        if isinstance(contents, np.ndarray) and contents.ndim == 4:  # B x H x W x 3: its frames
            contents = list(contents)
        if not isinstance(contents, (list, tuple)):
            raise VidstyleError("contents must be a list of H x W x 3 RGB uint8 arrays (or one B x H x W x 3 "
                                f"array), got {value_kind(contents)}")
        for i, frame in enumerate(contents):
            check_frame(frame, f"contents[{i}]")
        if not contents:
            return []
        if len({c.shape for c in contents}) != 1:
            raise VidstyleError("the frames of a batch must all have the same size")
        if p.scales != 1:
            raise VidstyleError("a batch of frames is optimised at one scale (--scales 1)")
        if p.targets.reference is None:
            p.targets.set_reference(contents[0])
        c = torch.cat([to_tensor(p.colour.work(f), self.device) for f in contents])
        problem = self.problems.load(c, list(contents), None, ())
        x = torch.cat([self._initial(c[i:i + 1]) for i in range(c.shape[0])])
        passes = self._run(problem, x, p.iterations if iterations is None else iterations, callback)
        if p.colour.recombines:
            problem.check_finite()
            outs = [p.colour.deliver(to_image(problem.best_x[i:i + 1]), f) for i, f in enumerate(contents)]
            losses = self._delivered(problem, outs)
        else:
            outs, losses, _ = self._deliver(problem)
        seconds = time.perf_counter() - start
        capture = self._capture_status(problem)
        return [StylizeResult(out, loss, passes, seconds, capture=capture, stopped=self._stopped)
                for out, loss in zip(outs, losses)]

    def _deliver(self, problem: Problem, measure: bool = True) -> tuple[list[np.ndarray], list[dict[str, float]],
                                                                         list[torch.Tensor]]:
        """The 8-bit images of ``problem``'s best images and their losses: quantised and measured on the device
        right behind the optimisation, then both read back (no upload of the image, no second round trip); and
        the same quantised images kept on the device (1x3xHxW levels / 255) for the next frame's start.
        ``measure=False``: no losses (empty), the finite check only."""
        with torch.no_grad():
            levels = problem.best_x.clamp(0, 1).mul(255).round()
            if measure:
                parts, total = problem.losses(levels / 255)
                values = torch.cat([parts, total[None], problem.worst[None]]).t()  # the finite check rides along
            else:
                values = problem.worst[None].t()
            pixels = levels.to(torch.uint8).permute(0, 2, 3, 1)
        host_values, host_pixels = self.problems.accelerator.read(values, pixels)  # one wait for both
        if not np.isfinite(host_values[:, -1]).all():
            problem.raise_not_finite()
        names = [*problem.names, "total"]
        kept = list((levels / 255).split(1))
        losses = [dict(zip(names, row[:-1].tolist())) if measure else {} for row in host_values]
        return list(host_pixels), losses, kept

    def _delivered(self, problem: Problem, images: list[np.ndarray]) -> list[dict[str, float]]:
        """Each term's value and the total of 8-bit images (luminance mode: the recombined colour images the
        user gets), by the problem that made them (its buffers still hold the frames' data)."""
        x = torch.cat([to_tensor(self.parts.colour.work(i), self.device) for i in images])
        with torch.no_grad():
            parts, total = problem.losses(x)
        rows = torch.cat([parts, total[None]]).t().tolist()
        return [dict(zip([*problem.names, "total"], row)) for row in rows]

    def evaluate(self, image: np.ndarray, content: np.ndarray, mask: LabelMap | None = None,
                 terms: Sequence[Term] = ()) -> dict[str, float]:
        """Every term's value and the total for ``image`` (8-bit RGB) as the stylization of ``content``."""
        check_frame(image, "image")
        check_frame(content, "content")
        if image.shape != content.shape:
            raise VidstyleError(f"image is {image.shape[1]}x{image.shape[0]}, content is "
                                f"{content.shape[1]}x{content.shape[0]}")
        if self.parts.targets.reference is None:
            self.parts.targets.set_reference(content)
        work = self.parts.colour.work(content)
        frame_terms, _ = self._frame_terms(work, content, mask)
        return self._measure(image, content, frame_terms + list(terms))

    def _measure(self, image: np.ndarray, content: np.ndarray, terms: list[Term]) -> dict[str, float]:
        x = to_tensor(self.parts.colour.work(image), self.device)
        with torch.no_grad():
            return floats(compose(terms, self.parts.features(x), self._colour(content)(x)))

    # --- internals ------------------------------------------------------------------------------------
    def _optimise(self, work: np.ndarray, colour_frame: np.ndarray | None, init: np.ndarray | torch.Tensor | None,
                  passes: int,
                  extra: list[Term], callback: Callback | None,
                  mask: LabelMap | None, measure: bool = True) -> tuple[Problem, int]:
        """One optimisation at one resolution; ``colour_frame`` is the content at the processing size (None at
        coarser levels, where only content, style and TV apply)."""
        c = to_tensor(work, self.device)
        problem = self.problems.load(c, None if colour_frame is None else [colour_frame], mask, extra)
        x = _start_tensor(init, self.device) if init is not None else self._initial(c)
        return problem, self._run(problem, x, passes, callback, measure)

    def _run(self, problem: Problem, x: torch.Tensor, passes: int, callback: Callback | None,
             measure: bool = True) -> int:
        """``passes`` passes of the optimiser from ``x`` (fewer once the stopping rule says the look has stopped
        changing); the best image ends in ``problem.best_x`` (``measure=False``: the last pass's image, and
        the loss scale of the problem's frame before, so that nothing but the passes runs a forward)."""
        problem.start(x, passes, keep_scale=not measure)
        step = self.problems.stepper(problem)
        watch = self.parts.stop.watch() if self.parts.stop is not None else None
        reader = LossReader(problem, self.problems.accelerator) if callback or watch else None
        done = 0
        self._running = problem
        try:
            while done < passes:
                step()
                done += 1
                if reader is not None:
                    values = reader.after_pass(done)
                    if callback is not None:
                        callback(done, values)
                    best = reader.take_best() if watch is not None else None
                    if best is not None and watch is not None and watch.converged(*best):
                        break  # the look has stopped changing: the rest of the cap is not spent
        finally:
            self._running = None
        if done:  # the image the last update made: measured among the candidates, or taken as it is
            if measure:
                problem.consider_last()
            else:
                problem.take_last()
        self._stopped = CONVERGED if done < passes else CAP
        return done  # the finite check is the caller's, with its read of the result

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
        """--init (the resolved start: the content frame, seeded noise or an image), in the work image's colours."""
        return self.parts.start.tensor(content, self.parts.colour)

    def _colour(self, colour_frame: np.ndarray | None):
        """The output image as the user gets it, as a differentiable function of the optimised image."""
        return self.parts.colour.function(colour_frame, self.device)
