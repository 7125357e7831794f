"""Seam figures of a distributed run: the warping error of the steps around each seam (the cross-fade between
two chunks and the step after it) against the interior's."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Span(Protocol):
    """The frames a chunk computes, ``begin .. end-1`` (vidstyle.distributed.chunks.Chunk is one)."""

    @property
    def begin(self) -> int: ...

    @property
    def end(self) -> int: ...


def seam_transitions(chunks: Sequence[Span]) -> list[list[int]]:
    """Per seam with an overlap: the frames t whose step t-1 -> t crosses it (the cross-fade and the step
    after), as indices into a warping error's ``per_frame`` list (entry t-1 belongs to frame t)."""
    return [list(range(max(1, later.begin), earlier.end + 1)) for earlier, later in zip(chunks, chunks[1:])
            if earlier.end > later.begin]


def seam_figures(per_frame: Sequence[float], chunks: Sequence[Span], shot_changes: Sequence[int] = ()) -> dict:
    """Warping error around the seams against the interior's (all other steps; shot changes left out).

    ``per_frame[t-1]`` is the error of frame t against warped frame t-1 (``metrics.warping.warping_error``).
    Returns the seam mean / interior mean ratio and the worst seam frame / interior median ratio.
    """
    seams = seam_transitions(chunks)
    near = {t for seam in seams for t in seam}
    skip = set(shot_changes)
    interior = [per_frame[t - 1] for t in range(1, len(per_frame) + 1) if t not in near and t not in skip]
    seam_values = [per_frame[t - 1] for t in sorted(near) if t not in skip and t - 1 < len(per_frame)]
    out: dict[str, object] = {"seams": len(seams), "interior_mean": _mean(interior),
                              "interior_median": float(np.median(interior)) if interior else None,
                              "seam_mean": _mean(seam_values), "seam_max": max(seam_values, default=None),
                              "per_seam": [{"frames": s, "mean": _mean([per_frame[t - 1] for t in s])}
                                           for s in seams]}
    if interior and seam_values and out["interior_mean"]:
        out["mean_ratio"] = out["seam_mean"] / out["interior_mean"]  # type: ignore[operator]
        median = out["interior_median"]
        out["max_to_median"] = max(seam_values) / median if median else None
    return out


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None
