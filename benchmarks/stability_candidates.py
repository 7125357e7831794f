"""Prototypes of candidate fixes for flow mode on real footage, switched on by bench_stability.py --candidates.

Nothing here is used by vidstyle itself: each candidate temporarily replaces one piece of flow mode
(vidstyle.temporal.stabilize's warp or still test, the follower, or the planner) inside a ``with`` block, so
the benchmark can measure it through the real pipeline before anyone changes the package.

* legacy: no still regions (Ruder's bilinear warp of every pixel, flow mode before stabilize.py);
* wholepx: every pixel follows the previous output by whole pixels (an exact copy), the sub-pixel rest of the
  motion carried over to the next frame, so nothing is ever resampled;
* deblur: bilinear warp, then its blur undone to first order (DEBLUR sets how much);
* warpinit: pixels Ruder's mask rejects start from the warped previous output (stylized, smeared) instead of
  the content frame;
* lowpass: on moving pixels the temporal term compares Gaussian-blurred (sigma LOWPASS_SIGMA px) differences,
  so the style term may re-sharpen the strokes a bilinear warp blurred; still pixels keep the full term;
* NAME=VALUE: a setting of stabilize.py (e.g. STILL_BOOST=20) or of this file (DEBLUR=2);

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
import vidstyle.temporal.shots as shots
import vidstyle.temporal.stabilize as stabilize
import vidstyle.video.loop as pipeline  # the per-frame loop builds the planner
from vidstyle.temporal.flow import _sample_maps, in_frame_mask, occlusion_mask, warp
from vidstyle.engine import Term, temporal_term

SNAP_PX = 0.5
LOWPASS_SIGMA = 1.0
DEBLUR = 1.0  # share of the first-order bilinear blur undone by the deblur candidate
LONG_TERM = (2, 4)


def _warp_with(interpolation: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        xs, ys = _sample_maps(flow)
        out = cv2.remap(np.ascontiguousarray(image), xs, ys, interpolation=interpolation,
                        borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(image.shape)
    return warp


def _deblurred(warp: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Bilinear warp, then undo its blur to first order: at fractional offset f the kernel [1-f, f] blurs by
    variance f(1-f) along that axis, and I - (v/2) d2I/dx2 inverts a blur of variance v (heat equation)."""
    def deblurred(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        out = warp(image, flow)
        if image.dtype != np.uint8:
            return out
        xs, ys = _sample_maps(flow)
        fx, fy = xs - np.floor(xs), ys - np.floor(ys)
        vx, vy = (fx * (1 - fx))[..., None], (fy * (1 - fy))[..., None]
        f = out.astype(np.float32)
        dxx = cv2.filter2D(f, -1, np.array([[1, -2, 1]], np.float32), borderType=cv2.BORDER_REPLICATE)
        dyy = cv2.filter2D(f, -1, np.array([[1], [-2], [1]], np.float32), borderType=cv2.BORDER_REPLICATE)
        sharp = f - DEBLUR * (vx / 2 * dxx.reshape(f.shape) + vy / 2 * dyy.reshape(f.shape))
        return np.clip(np.rint(sharp), 0, 255).astype(np.uint8)
    return deblurred


def _snapping(warp: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def snapped(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
        still = np.hypot(flow[..., 0], flow[..., 1]) < SNAP_PX
        return warp(image, np.where(still[..., None], 0.0, flow).astype(np.float32))
    return snapped


def _nothing_still(prev: np.ndarray, cur: np.ndarray, flow: np.ndarray) -> np.ndarray:
    return np.zeros(flow.shape[:2], bool)


def whole_pixel_warp(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``out(x) = image(x + shift(x))`` for integer-valued ``shift``: an exact copy, no interpolation."""
    h, w = shift.shape[:2]
    xs = np.clip(np.arange(w, dtype=np.float32)[None, :] + shift[..., 0], 0, w - 1)
    ys = np.clip(np.arange(h, dtype=np.float32)[:, None] + shift[..., 1], 0, h - 1)
    return cv2.remap(np.ascontiguousarray(image), xs, ys, interpolation=cv2.INTER_NEAREST).reshape(image.shape)


class WholePixelFollower(stabilize.ShotFollower):
    """stabilize.ShotFollower, but moving pixels are moved by whole pixels too, the sub-pixel rest carried."""

    def __init__(self) -> None:
        super().__init__()
        self._rest: np.ndarray | None = None  # HxWx2: motion not yet applied (|rest| <= 0.5 px)

    def reset(self) -> None:
        super().reset()
        self._rest = None

    def follow(self, prev_output: np.ndarray, frame: np.ndarray, motion: shots.Motion) -> stabilize.Followed:
        f = super().follow(prev_output, frame, motion)
        flow, mask = motion.flow, motion.mask
        reliable = (mask > 0) | f.still
        total = flow.copy()
        if self._rest is not None and self._rest.shape == flow.shape:
            total += warp(self._rest, flow) * reliable[..., None]
        total[f.still] = 0.0
        shift = np.rint(total)
        self._rest = (total - shift).astype(np.float32)
        f.warped = whole_pixel_warp(prev_output, shift)
        f.weight = np.where(f.still, stabilize.STILL_BOOST, reliable * in_frame_mask(shift)).astype(np.float32)
        return f


class RecordingFollower(stabilize.ShotFollower):
    """The default follower, remembering its last result (for warpinit)."""

    last: stabilize.Followed | None = None

    def follow(self, *args: object) -> stabilize.Followed:
        self.last = super().follow(*args)
        return self.last


class WarpInitPlanner(propagate.TemporalPlanner):
    """Flow mode whose unreliable pixels start from the warped previous output, not the content frame."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.follower = RecordingFollower()

    def start(self, frame: np.ndarray, prev_frame: np.ndarray | None,
              prev_output: np.ndarray | None) -> propagate.FrameStart:
        self.follower.last = None
        plan = super().start(frame, prev_frame, prev_output)
        if self.follower.last is not None:
            plan.init = self.follower.last.warped
        return plan


def _lowpass_temporal_term(warped: np.ndarray, mask: np.ndarray, weight: float, device: object) -> Term:
    import torch
    import torch.nn.functional as F
    from vidstyle.engine.tensors import mask_tensor, to_tensor
    target, m = to_tensor(warped, device), mask_tensor(mask, device)
    still, moving = (m > 1).to(m.dtype) * m, (m == 1).to(m.dtype)
    radius = int(3 * LOWPASS_SIGMA + 0.5)
    g = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32, device=m.device) ** 2
                  / (2 * LOWPASS_SIGMA ** 2))
    g = (g / g.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)

    def fn(_features: object, image: torch.Tensor) -> torch.Tensor:
        d = image - target.to(image.dtype)
        low = F.conv2d(F.pad(d, (radius, radius, 0, 0), mode="replicate"), g, groups=3)
        low = F.conv2d(F.pad(low, (0, 0, radius, radius), mode="replicate"), g.transpose(2, 3), groups=3)
        return torch.mean(still * d ** 2) + torch.mean(moving * low ** 2)
    return Term("temporal", weight, fn)


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
                warped = warp(old_output, bwd)
                plan.terms.append(temporal_term(warped, extra, self.weight, self.device))
        return plan

    def motion(self, prev_frame: np.ndarray, frame: np.ndarray) -> propagate.Motion:
        m = super().motion(prev_frame, frame)
        self._last_mask = m.mask
        return m


@contextlib.contextmanager
def candidate(name: str) -> Iterator[None]:
    """Switch candidate ``name`` on for the duration of the block ("" = today's code)."""
    old_warp, old_planner = stabilize.warp, pipeline.TemporalPlanner
    old_still, old_follower = shots.still_pixels, propagate.ShotFollower
    old_term = propagate.temporal_term
    parts = [p for p in name.split("+") if p]
    saved: dict[tuple[object, str], object] = {}
    try:
        for part in parts:
            if part == "bicubic":
                stabilize.warp = _warp_with(cv2.INTER_CUBIC)
            elif part == "lanczos":
                stabilize.warp = _warp_with(cv2.INTER_LANCZOS4)
            elif part == "deblur":
                stabilize.warp = _deblurred(old_warp)
            elif part == "snap":
                stabilize.warp = _snapping(old_warp)
            elif part == "legacy":  # no still regions: Ruder's bilinear warp of every pixel
                shots.still_pixels = _nothing_still
            elif part == "wholepx":
                propagate.ShotFollower = WholePixelFollower
            elif "=" in part:  # a setting of stabilize.py or shots.py, e.g. STILL_BOOST=1 or STILL_PX=0.5
                key, value = part.split("=")
                if key in globals():  # a setting of the prototypes here, e.g. DEBLUR=0.5
                    globals()[key] = type(globals()[key])(value)
                    continue
                module = stabilize if hasattr(stabilize, key) else shots
                saved.setdefault((module, key), getattr(module, key))
                setattr(module, key, type(saved[(module, key)])(value))
            elif part == "warpinit":
                pipeline.TemporalPlanner = WarpInitPlanner
            elif part == "lowpass":
                propagate.temporal_term = _lowpass_temporal_term
            elif part == "longterm":
                pipeline.TemporalPlanner = LongTermPlanner
            else:
                raise ValueError(f"unknown candidate {part!r}; choose from bicubic, lanczos, snap, longterm")
        yield
    finally:
        pipeline.TemporalPlanner, propagate.temporal_term = old_planner, old_term
        stabilize.warp, shots.still_pixels, propagate.ShotFollower = old_warp, old_still, old_follower
        for (module, key), value in saved.items():
            setattr(module, key, value)
