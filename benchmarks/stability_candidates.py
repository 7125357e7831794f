"""Prototypes of candidate fixes for flow mode on real footage, switched on by bench_stability.py --candidates.

Nothing here is used by vidstyle itself: each candidate temporarily replaces one piece of
vidstyle.temporal.propagate (the warp, or the planner) inside a ``with`` block, so the benchmark can measure
it through the real pipeline before anyone changes the package.

* bicubic / lanczos: warp the previous stylized frame with a sharper interpolation than bilinear (bilinear
  resampling at a fractional offset is a small blur, and it compounds frame after frame);
* snap: flow shorter than SNAP_PX is set to zero before warping, so a still camera's noise-induced sub-pixel
  flow does not resample (blur) the still regions every frame;
* longterm: Ruder et al.'s long-term loss: besides t-1, the outputs of t-2 and t-4 are warped into frame t
  along their own flows (computed on the input frames) and held with the same weight under their own masks
  where the nearer frames' masks do not already cover the pixel.
"""
from __future__ import annotations

import contextlib
from collections import deque
from typing import Callable, Iterator

import cv2
import numpy as np

import vidstyle.temporal.propagate as propagate
import vidstyle.temporal.stabilize as stabilize
import vidstyle.video.loop as pipeline  # the per-frame loop builds the planner
from vidstyle.temporal.flow import _sample_maps, occlusion_mask
from vidstyle.engine import temporal_term

SNAP_PX = 0.5
LONG_TERM = (2, 4)


def _warp_with(interpolation: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        xs, ys = _sample_maps(flow)
        out = cv2.remap(np.ascontiguousarray(image), xs, ys, interpolation=interpolation,
                        borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(image.shape)
    return warp


def _snapping(warp: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def snapped(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        still = np.hypot(flow[..., 0], flow[..., 1]) < SNAP_PX
        return warp(image, np.where(still[..., None], 0.0, flow).astype(np.float32))
    return snapped


class LongTermPlanner(propagate.TemporalPlanner):
    """Flow mode plus temporal losses against the outputs of frames t-2 and t-4 (Ruder's long-term term)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._history: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=max(LONG_TERM))

    def start(self, frame: np.ndarray, prev_frame: np.ndarray | None,
              prev_output: np.ndarray | None) -> propagate.FrameStart:
        plan = super().start(frame, prev_frame, prev_output)
        if prev_frame is None or prev_output is None or self.mode != "flow":
            return plan
        if plan.shot_change:
            self._history.clear()
        self._history.appendleft((prev_frame, prev_output))  # index k-1 holds frame t-k
        if plan.shot_change or self.weight <= 0:
            return plan
        covered = self._last_mask  # t-1's mask, set by motion() during super().start()
        for k in LONG_TERM:
            if len(self._history) < k:
                break
            old_frame, old_output = self._history[k - 1]
            fwd, bwd = self.estimator.pair(old_frame, frame)  # type: ignore[union-attr]
            mask = occlusion_mask(fwd, bwd)
            extra = np.clip(mask - covered, 0, 1)
            covered = np.maximum(covered, mask)
            if extra.any():
                warped = propagate.warp(old_output, bwd)
                plan.terms.append(temporal_term(warped, extra, self.weight, self.device))
        return plan

    def motion(self, prev_frame: np.ndarray, frame: np.ndarray) -> propagate.Motion:
        m = super().motion(prev_frame, frame)
        self._last_mask = m.mask
        return m


@contextlib.contextmanager
def candidate(name: str) -> Iterator[None]:
    """Switch candidate ``name`` on for the duration of the block ("" = today's code)."""
    old_warp, old_planner = propagate.warp, pipeline.TemporalPlanner
    parts = [p for p in name.split("+") if p]
    saved: dict[str, object] = {}
    try:
        for part in parts:
            if part == "bicubic":
                propagate.warp = _warp_with(cv2.INTER_CUBIC)
            elif part == "lanczos":
                propagate.warp = _warp_with(cv2.INTER_LANCZOS4)
            elif part == "snap":
                propagate.warp = _snapping(propagate.warp)
            elif part == "legacy":  # the bilinear warp of every frame, before the sharp follower
                propagate.SHARP_FOLLOW = False
            elif "=" in part:  # a sharp-follower setting, e.g. STILL_BOOST=1 (vidstyle/temporal/stabilize.py)
                key, value = part.split("=")
                saved.setdefault(key, getattr(stabilize, key))
                setattr(stabilize, key, type(saved[key])(value))
            elif part == "longterm":
                pipeline.TemporalPlanner = LongTermPlanner
            else:
                raise ValueError(f"unknown candidate {part!r}; choose from bicubic, lanczos, snap, longterm")
        yield
    finally:
        propagate.warp, pipeline.TemporalPlanner = old_warp, old_planner
        propagate.SHARP_FOLLOW = True
        for key, value in saved.items():
            setattr(stabilize, key, value)
