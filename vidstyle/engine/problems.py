"""The persistent problems of one stylizer: which terms a frame needs, one ``Problem`` per frame size (and
batch size), built on first use and reused by every later frame of that size with the frame's data copied in
(vidstyle/engine/step.py). Region-wise style, photorealism and a caller's own terms stay plain functions of
the frame (evaluated eagerly); the content, style, TV and temporal terms live in persistent slots."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np
import torch

from ..errors import VidstyleError
from ..io.mask_files import LabelMap
from .parts import EngineParts
from .accelerator import accelerator_for
from .regions import match_labels, region_style_targets
from .step import Capture, Problem, persistent_pass
from .tensors import one_hot, to_tensor
from .terms import (ContentSlot, GenericSlot, StyleSlot, TVSlot, TemporalSlot, Term, photo_term, style_term)


# Problems (and their captured passes) kept per stylizer: a video has one, coarse to fine one per level, a
# long-lived API stylizer one per frame size it met. Beyond this many the least recently used is dropped,
# with its device buffers and graph, so memory stays bounded whatever sizes a caller feeds.
KEPT_PROBLEMS = 6


class Problems:
    """The problems of one stylizer by frame shape, and their captured passes (an accelerator that captures)."""

    def __init__(self, parts: EngineParts, temporal_slot: bool) -> None:
        """``temporal_slot``: every full-size problem holds a temporal term (a flow video: the first frame and
        cuts load an empty one), so all frames share one problem and one captured pass."""
        self.parts, self.temporal_slot = parts, temporal_slot
        self.accelerator = accelerator_for(parts.device)
        self._problems: OrderedDict[tuple, Problem] = OrderedDict()
        self._captures: dict[int, Capture] = {}

    def all(self) -> list[Problem]:
        return list(self._problems.values())

    def captures(self) -> list[Capture]:
        """The captured passes kept now."""
        return list(self._captures.values())

    def set_weight(self, term: str, value: float) -> None:
        for problem in self._problems.values():
            problem.set_weight(term, value)

    def clear(self) -> None:
        """Drop every problem (their Gram targets came from an old colour reference)."""
        had = bool(self._captures)
        self._problems.clear()
        self._captures.clear()
        if had:
            self.accelerator.release()

    def capture_refusal(self, problem: Problem) -> str | None:
        """Why ``problem``'s pass runs eagerly on a device that captures (None: it is captured, or the
        device captures nothing, where eager is simply how it runs)."""
        if not self.accelerator.captures:
            return None
        if not self.parts.capture:
            return "--no-capture"
        return problem.untraceable

    def stepper(self, problem: Problem) -> Callable[[], None]:
        """The pass of ``problem``: captured and replayed where the device captures (unless capture is off or
        a term cannot be traced), eager elsewhere."""
        if self.accelerator.captures and self.parts.capture and problem.traceable:
            key = id(problem)
            if key not in self._captures:
                self._captures[key] = Capture(problem, self.accelerator)
            return self._captures[key]
        return lambda: persistent_pass(problem)

    def _keep(self, key: tuple, problem: Problem) -> None:
        """Remember ``problem`` as the most recently used; drop the oldest beyond KEPT_PROBLEMS."""
        self._problems[key] = problem
        self._problems.move_to_end(key)
        while len(self._problems) > KEPT_PROBLEMS:
            _, old = self._problems.popitem(last=False)
            if self._captures.pop(id(old), None) is not None:
                self.accelerator.release()

    def load(self, c: torch.Tensor, colour: list[np.ndarray] | None, mask: LabelMap | None,
              extra: Sequence[Term]) -> Problem:
        """The persistent problem for this frame size (built on first use), with this frame's data copied in."""
        p = self.parts
        with torch.no_grad():
            feats = p.features(c)
        long_side = max(c.shape[-2:])
        style_targets: dict = p.targets.grams(long_side)
        labels = mask if mask is not None else p.content_labels
        generic: list[Term] = []
        if labels is not None:  # region-wise style: targets that depend on the frame's own mask
            if p.targets.labels is None:
                raise VidstyleError("a content mask needs a style mask (--style-mask)")
            labels.check_fits((c.shape[-2], c.shape[-1], 3), "content")
            matches = match_labels(labels, p.targets.labels, p.orphan_labels)
            masks = one_hot(labels.resized(*c.shape[-2:]), self.parts.device)
            regions = region_style_targets(feats, masks, matches, p.targets.regions(long_side), style_targets)
            generic.append(style_term(regions, p.style_layers, p.weights["style"], p.units))
        if p.weights["photo"] > 0 and colour is not None:
            generic.append(photo_term(colour[0], p.weights["photo"], p.units, self.parts.device))
        temporal = None
        for term in extra:
            if term.name == "temporal" and term.frame:
                temporal = term
            else:
                generic.append(term)
        if generic and c.shape[0] > 1:
            raise VidstyleError("a batch of frames takes the built-in terms only (no masks, photo or extra terms)")
        with_temporal = colour is not None and (temporal is not None or self.temporal_slot)
        key = (tuple(c.shape), colour is not None, with_temporal, tuple(t.name for t in generic))
        problem = self._problems.get(key)
        if problem is None:
            problem = self._build(c, feats, style_targets, colour is not None, with_temporal, generic)
        self._keep(key, problem)
        slots = iter(s for s in problem.slots if isinstance(s, GenericSlot))
        for term in generic:  # same names, this frame's functions and weights
            next(slots).term = term
            problem.set_weight(term.name, term.weight)
        for slot in problem.slots:
            if isinstance(slot, ContentSlot):
                slot.load(feats)
            elif isinstance(slot, TemporalSlot):
                slot.load(*(temporal.frame if temporal is not None else (None, None)))
        if with_temporal:
            problem.set_weight("temporal", temporal.weight if temporal is not None else 0.0)
        if problem.chroma is not None and colour is not None:
            with torch.no_grad():
                frames = torch.cat([to_tensor(f, self.parts.device) for f in colour])  # the frame's own data
                problem.chroma.copy_(p.colour.chroma(frames))
        return problem

    def _build(self, c: torch.Tensor, feats: dict[str, torch.Tensor], style_targets: dict, finest: bool,
               with_temporal: bool, generic: list[Term]) -> Problem:
        p = self.parts
        slots: list = [ContentSlot(feats, p.content_layers, p.units)]
        if not any(t.name == "style" for t in generic):
            slots.append(StyleSlot(feats, style_targets, p.style_layers, p.units))
        if p.weights["tv"] > 0:
            slots.append(TVSlot(c.shape, p.units))
        if with_temporal:
            slots.append(TemporalSlot(c.shape, self.parts.device))
        slots += [GenericSlot(t) for t in generic]
        chroma = p.colour.chroma_buffer(c.shape, self.parts.device) if finest else None

        def colour(x: torch.Tensor) -> torch.Tensor:  # the delivered image (luminance mode: the frame's chroma added)
            return p.colour.recombine(x, chroma)

        problem = Problem(c.shape, self.parts.device, slots, dict(p.weights), p.features,
                          colour if chroma is not None else None, p.lr, p.optimizer.method)
        problem.chroma = chroma
        return problem
