"""Coarse to fine (``--scales N``): one optimisation call run at N resolutions, each half the next.

**How the pass budget is split.** ``iterations`` stays the budget in passes *at the processing size*, so a
coarse-to-fine run costs about what a single-scale run with the same ``--iterations`` costs. A pass at a
resolution with a quarter of the pixels costs about a quarter, so three quarters of the budget's compute go to
the finest resolution and one quarter is shared equally by the coarser ones: resolution k below the finest
(k = 1..N-1) gets ``iterations / 4 / (N-1) * 4**k`` passes. Example: ``--iterations 300 --scales 3`` runs 600
passes at 1/4 size, 150 at 1/2 size and 225 at full size. Progress is reported in full-size-pass equivalents.
Each result, upsampled (bicubic), starts the next resolution; with ``--init content`` it gets the frame's own
fine detail (the band the coarser resolution could not hold) added back. README "Style controls" has the
measurements.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from ..errors import VidstyleError
from .optimizers import Callback
from .targets import MIN_SIDE

# optimise(frame, init, passes, finest, callback) -> (result image, passes run)
OptimiseOnce = Callable[[np.ndarray, np.ndarray | None, int, bool, Callback | None], tuple[np.ndarray, int]]


def scale_plan(iterations: int, scales: int) -> list[tuple[int, int]]:
    """(halvings below the processing size, passes) per resolution, coarsest first; see the module docstring."""
    if scales <= 1:
        return [(0, iterations)]
    coarse_share = iterations / 4 / (scales - 1)
    plan = [(k, round(coarse_share * 4 ** k)) for k in range(scales - 1, 0, -1)]
    return plan + [(0, iterations - round(coarse_share * (scales - 1)))]


def coarse_to_fine(optimise: OptimiseOnce, frame: np.ndarray, init: np.ndarray | None, iterations: int,
                   scales: int, *, detail: bool, callback: Callback | None) -> tuple[np.ndarray, int]:
    """Run ``optimise`` over the resolutions of ``scale_plan``; returns the finest result and all passes run."""
    plan = scale_plan(iterations, scales)
    coarsest = max(_scaled_shape(frame, plan[0][0]))
    if coarsest < MIN_SIDE:
        raise VidstyleError(f"--scales {len(plan)} halves the {max(frame.shape[:2])} px frame down to "
                            f"{coarsest} px; use fewer scales (the coarsest must be at least {MIN_SIDE} px)")
    result: np.ndarray | None = None
    done, passes_run = 0.0, 0
    for index, (k, passes) in enumerate(plan):
        level = frame if k == 0 else _resize(frame, _scaled_shape(frame, k), cv2.INTER_AREA)
        if result is not None:
            init = upsample_init(result, level, detail)
        cost, offset = 4.0 ** -k, done
        step = None if callback is None else (
            lambda i, losses, cost=cost, offset=offset: callback(min(iterations, round(offset + i * cost)), losses))
        result, ran = optimise(level, init, passes, index == len(plan) - 1, step)
        done += ran * cost
        passes_run += ran
    assert result is not None
    return result, passes_run


def _scaled_shape(image: np.ndarray, halvings: int) -> tuple[int, int]:
    h, w = image.shape[:2]
    return max(1, round(h / 2 ** halvings)), max(1, round(w / 2 ** halvings))


def _resize(image: np.ndarray, shape: tuple[int, ...], interpolation: int) -> np.ndarray:
    return cv2.resize(image, (shape[1], shape[0]), interpolation=interpolation)


def upsample_init(coarse: np.ndarray, frame: np.ndarray, detail: bool) -> np.ndarray:
    """The coarse result resized to ``frame`` (bicubic); with ``detail``, plus the frame's own detail band
    (the frame minus its down- and re-upsampled copy)."""
    up = _resize(coarse, frame.shape, cv2.INTER_CUBIC).astype(np.float32)
    if detail:
        low = _resize(_resize(frame, coarse.shape, cv2.INTER_AREA), frame.shape, cv2.INTER_CUBIC)
        up += frame.astype(np.float32) - low.astype(np.float32)
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)
