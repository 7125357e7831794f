"""Temporal consistency metric: warping error (Ruder et al. 2016), flow and masks from the reference clip."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from ..errors import VidstyleError
from ..temporal.flow import FlowEstimator, warp
from ..temporal.shots import SHOT_THRESHOLD, analyze_motion


@dataclass
class WarpingError:
    """Mean and per-frame warping error of a clip and of its reference (the floor); 0..1 RGB units squared.

    ``per_frame[i]`` belongs to frame i+1 (frame 0 has no predecessor). Frames the reference shows as shot
    changes are listed in ``shot_changes`` and left out of both means (nothing to be consistent with).
    """

    mean: float
    per_frame: list[float]
    reference_mean: float
    reference_per_frame: list[float]
    shot_changes: list[int] = field(default_factory=list)
    frames: int = 0
    reference_longer: bool = False  # the reference went on after the output's last frame (not compared)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"frames": self.frames, "warping_error": self.mean, "reference_warping_error": self.reference_mean,
                "ratio_to_reference": self.mean / self.reference_mean if self.reference_mean > 0 else None,
                "shot_changes": self.shot_changes, "reference_longer": self.reference_longer,
                "per_frame": self.per_frame,
                "reference_per_frame": self.reference_per_frame}


def to_unit(image: np.ndarray) -> np.ndarray:
    """An RGB frame as float32 in 0..1: uint8 is divided by 255, floats are taken as already in 0..1."""
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32, copy=False)


def frame_warping_error(prev_out: np.ndarray, cur_out: np.ndarray, flow_bwd: np.ndarray, mask: np.ndarray) -> float:
    """Mean over pixels and channels of mask * (out_t - warp(out_{t-1}))^2, images taken to 0..1."""
    diff = to_unit(cur_out) - warp(to_unit(prev_out), flow_bwd)
    return float(np.mean(mask[..., None] * diff ** 2))


def warping_error(frames: Iterable[np.ndarray], reference_frames: Iterable[np.ndarray], *,
                  quality: str = "medium", shot_threshold: float = SHOT_THRESHOLD,
                  longer_reference: bool = False,
                  on_frame: Callable[[np.ndarray, np.ndarray], None] | None = None) -> WarpingError:
    """Warping error of ``frames`` (e.g. stylized output) with flow and masks computed on ``reference_frames``.

    Streams both sequences (two frames of each held at a time). Reference frames are resized to the output's
    size when they differ. ``longer_reference``: a reference that goes on after the output's last frame is
    accepted (a run made with --max-frames / --end) and its extra frames are left out. ``on_frame(output,
    reference)`` sees every compared pair (the reference resized), e.g. to measure the look on the same
    decode. Raises VidstyleError when the counts differ otherwise or there are fewer than two frames.
    """
    est = FlowEstimator(quality)
    out_it, ref_it = iter(frames), iter(reference_frames)
    per, ref_per, shots = [], [], []
    prev_out = prev_ref = None
    n = 0
    sentinel = object()
    longer = False
    while True:
        out, ref = next(out_it, sentinel), next(ref_it, sentinel)
        if out is sentinel and ref is sentinel:
            break
        if out is sentinel and longer_reference:
            longer = True
            break
        if out is sentinel or ref is sentinel:
            longer = "reference" if out is sentinel else "output"
            raise VidstyleError(f"frame counts differ: the {longer} has more than {n} frames")
        if ref.shape[:2] != out.shape[:2]:
            ref = cv2.resize(ref, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_AREA)
        if prev_out is not None:
            if out.shape != prev_out.shape:
                raise VidstyleError(f"frame {n} has size {out.shape[:2]}, frame {n - 1} had {prev_out.shape[:2]}")
            motion = analyze_motion(prev_ref, ref, est, shot_threshold=shot_threshold)
            if motion.shot_change:
                shots.append(n)
            per.append(frame_warping_error(prev_out, out, motion.flow, motion.mask))
            ref_per.append(frame_warping_error(prev_ref, ref, motion.flow, motion.mask))
        if on_frame is not None:
            on_frame(out, ref)
        prev_out, prev_ref = out, ref
        n += 1
    if n < 2:
        raise VidstyleError(f"warping error needs at least two frames, got {n}")
    keep = [i for i in range(len(per)) if i + 1 not in shots]
    mean = float(np.mean([per[i] for i in keep])) if keep else 0.0
    ref_mean = float(np.mean([ref_per[i] for i in keep])) if keep else 0.0
    return WarpingError(mean, per, ref_mean, ref_per, shots, n, longer)
