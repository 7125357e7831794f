"""Small runs through the public API with Adam's persistent pass, and the same runs with a reference: torch's
own ``torch.optim.Adam`` over the eager terms (the reference maths), with the same projection into 0..1, the
same best-image tracking and the same start, run in the place of the engine's frame (``reference_frame``).

Both are computed in the same test on the same machine, so the comparison holds on any CPU, thread count and
OpenCV version: images saved on one machine did not (DIS flow, resizing and float sums round differently
elsewhere: 22 levels apart on a flow video on an AVX-512 machine).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from tests.helpers import MEDIA, WEIGHTS, smooth_image
from vidstyle import Config, stylize_image, stylize_video
from vidstyle.engine import Stylizer, StylizeResult
from vidstyle.engine.pyramid import coarse_to_fine
from vidstyle.engine.stylizer import _start_tensor
from vidstyle.engine.tensors import to_image
from vidstyle.engine.terms import compose
from vidstyle.io.frames import iter_frame_dir
from vidstyle.io.images import write_image


class _Spent(Exception):
    """The reference run's pass budget is used."""


REFERENCE = "adam"  # the optimiser the reference frame runs: torch.optim.Adam, or torch.optim.LBFGS


def reference_frame(self: Stylizer, content: np.ndarray, work: np.ndarray, init, iterations: int,  # noqa: ANN001
                    scales: int, terms: list, callback, mask, began: float,  # noqa: ANN001
                    measure: bool = True) -> StylizeResult:
    """``Stylizer._frame_persistent``'s stand-in for the reference run: torch.optim.Adam (or, with REFERENCE
    "lbfgs", torch.optim.LBFGS) over the eager terms
    (``Stylizer._frame_terms``, the reference maths), pass for pass what ``step.persistent_pass`` does: each
    pass measures the projected image (best kept), projects the gradient and takes one step; the image the
    last step made is measured too; then the colour mode delivers it and the eager terms measure it."""
    finest: list = []

    def once(level: np.ndarray, level_init, passes: int, last: bool, step) -> tuple[np.ndarray, int]:  # noqa: ANN001
        frame_terms, c = self._frame_terms(level, content if last else None, mask)
        all_terms = frame_terms + (terms if last else [])
        finest[:] = all_terms
        x = (_start_tensor(level_init, self.device).clone() if level_init is not None
             else self._initial(c)).requires_grad_(True)
        colour = self._colour(content if last else None)

        def total() -> torch.Tensor:
            return compose(all_terms, self.parts.features(x), colour(x))["total"]

        with torch.no_grad():
            x.clamp_(0, 1)
            scale = total().abs().clamp_min(1e-30)
        best = [torch.tensor(float("inf")), x.detach().clone()]
        done = [0]

        def evaluate() -> torch.Tensor:  # one pass: the projected image measured, its projected gradient
            if done[0] >= passes:
                raise _Spent
            with torch.no_grad():
                x.clamp_(0, 1)
            x.grad = None
            value = total()
            objective = value / scale
            objective.backward()
            done[0] += 1
            with torch.no_grad():
                outward = ((x <= 0) & (x.grad > 0)) | ((x >= 1) & (x.grad < 0))
                x.grad.masked_fill_(outward, 0)
                if value < best[0]:
                    best[:] = [value.detach(), x.detach().clone()]
            return objective

        if REFERENCE == "lbfgs":  # torch's L-BFGS with its strong-Wolfe line search (the engine's until c260cd9)
            lbfgs = torch.optim.LBFGS([x], lr=1.0, max_iter=passes, max_eval=passes, tolerance_grad=0.0,
                                      tolerance_change=0.0, history_size=50, line_search_fn="strong_wolfe")
            try:
                lbfgs.step(evaluate)
            except _Spent:
                pass
        else:
            adam = torch.optim.Adam([x], lr=self.parts.lr)
            for _ in range(passes):
                evaluate()
                adam.step()
        best_value, best_x = best
        with torch.no_grad():
            x.clamp_(0, 1)
            if passes and total() < best_value:
                best_x = x.detach().clone()
        return to_image(best_x), passes

    image, ran = coarse_to_fine(once, work, init, iterations, scales, detail=self.parts.start.detail,
                                callback=callback)
    out = self.parts.colour.deliver(image, content)
    return StylizeResult(out, self._measure(out, content, finest), ran, time.perf_counter() - began)


def _cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=48, iterations=12,
                                   seed=0, quiet=True)
    return Config(**{**base, **kw})  # type: ignore[arg-type]


def image_adam(optimizer: str) -> list[np.ndarray]:
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", _cfg(optimizer=optimizer))]


def image_luminance_scales(optimizer: str) -> list[np.ndarray]:
    cfg = _cfg(preserve_colors="luminance", scales=2, init="noise", tv_weight=1.0, size=64, optimizer=optimizer)
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg)]


def video_flow(optimizer: str) -> list[np.ndarray]:
    big = smooth_image(32, 36, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(4):
            write_image(src / f"f{i + 1}.png", np.ascontiguousarray(big[:, i:i + 32]))
        out = Path(tmp) / "out"
        stylize_video(src, MEDIA / "starry_night.jpg", out,
                      _cfg(size=32, iterations=6, first_iterations=8, temporal="flow", optimizer=optimizer))
        return list(iter_frame_dir(out))


CASES: dict[str, Callable[[str], list[np.ndarray]]] = {
    "image_adam": image_adam, "image_luminance_scales": image_luminance_scales, "video_flow": video_flow}


def persistent_and_reference(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """The case's images from the persistent Adam pass and from the reference (run in its place)."""
    persistent = np.stack(CASES[name]("adam"))
    monkeypatch.setattr(Stylizer, "_frame_persistent", reference_frame)
    reference = np.stack(CASES[name]("adam"))
    return persistent, reference
