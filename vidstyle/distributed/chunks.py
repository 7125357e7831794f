"""Chunk planning for distributed runs (borders snapped to shot changes) and the cross-fade at the seams
(their figures are vidstyle/metrics/seams.py).

A chunk owns the output frames ``start .. stop-1``; it is computed from ``begin = start - lead`` to
``end = stop + trail``. At a border with an overlap of K frames the later chunk starts cold K frames early
(its lead-in) and the earlier chunk runs on warm K frames past the border (its run-on): the 2K frames
``later.begin .. earlier.end-1`` are a cross-fade from the earlier chunk's frames to the later one's. Both
halves are needed: the cold chain settles into another state than the warm chain it joins (measured gap at
the border 10-40x a frame-to-frame step), and a cross-fade spreads that gap over its length. A border that
falls on a shot change needs no overlap: the one-machine loop starts cold there too.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np


@dataclass(frozen=True)
class Chunk:
    """One Ray task's share of the frame range (indices count output frames, 0-based)."""

    index: int
    begin: int  # first frame computed (cold start)
    start: int  # first frame owned
    stop: int  # one past the last frame owned (and computed)
    cut: bool = False  # the border at ``start`` is a shot change
    trail: int = 0  # frames computed past ``stop`` (the run-on, blended into the next chunk's head)

    @property
    def lead(self) -> int:
        """Overlap frames computed before ``start`` (the lead-in, blended with the previous chunk's run-on)."""
        return self.start - self.begin

    @property
    def end(self) -> int:
        """One past the last frame computed."""
        return self.stop + self.trail

    @property
    def length(self) -> int:
        """Frames this chunk computes."""
        return self.end - self.begin

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def snap_window(chunk_frames: int) -> int:
    """How far (frames) a border may move to land on a shot change: a quarter of a chunk."""
    return max(1, chunk_frames // 4)


def border_windows(total: int, chunk_frames: int) -> list[tuple[int, range]]:
    """(nominal border, frames around it where a shot change is looked for), for each multiple of
    ``chunk_frames`` inside the range."""
    w = snap_window(chunk_frames)
    return [(b, range(max(1, b - w), min(total, b + w + 1))) for b in range(chunk_frames, total, chunk_frames)]


def near_border(frame: int, chunk_frames: int) -> bool:
    """Whether the step into ``frame`` lies in a border window (so the shot detector must judge it)."""
    d = frame % chunk_frames
    return frame >= chunk_frames - snap_window(chunk_frames) and min(d, chunk_frames - d) <= snap_window(chunk_frames)


def plan_chunks(total: int, chunk_frames: int, overlap: int, cuts: Iterable[int] = ()) -> list[Chunk]:
    """Cut ``total`` frames into chunks of about ``chunk_frames``.

    Each nominal border (a multiple of ``chunk_frames``) moves to the nearest shot change in ``cuts`` (frame
    indices that start a new shot) within ``snap_window``; such a border gets no overlap. At the others the
    later chunk starts ``overlap`` frames early (never before the previous chunk's own start) and the earlier
    one runs ``overlap`` frames on (never past the later chunk's own stop).
    """
    if chunk_frames < 1 or overlap < 0 or overlap >= chunk_frames:
        raise ValueError("need chunk_frames >= 1 and 0 <= overlap < chunk_frames")
    cut_set = set(cuts)
    borders: list[tuple[int, bool]] = []
    for nominal, window in border_windows(total, chunk_frames):
        near = sorted((abs(c - nominal), c) for c in cut_set if c in window)
        border, cut = (near[0][1], True) if near else (nominal, False)
        if not borders or border > borders[-1][0]:
            borders.append((border, cut))
    starts = [(0, False), *borders]
    stops = [b for b, _ in borders] + [total]
    leads = [0 if i == 0 or cut else min(overlap, start - starts[i - 1][0]) for i, (start, cut) in enumerate(starts)]
    chunks = []
    for i, (start, cut) in enumerate(starts):
        trail = 0
        if i + 1 < len(starts) and leads[i + 1] > 0:  # run on, but never into the lead-in of the chunk after next
            room = stops[i + 1] - (leads[i + 2] if i + 2 < len(starts) else 0) - stops[i]
            trail = max(0, min(overlap, room))
        chunks.append(Chunk(i, start - leads[i], start, stops[i], cut, trail))
    return chunks


def blend_weight(earlier: Chunk, later: Chunk, frame: int) -> float:
    """Weight of ``later``'s computation of ``frame`` in the cross-fade ``later.begin .. earlier.end-1``:
    (m+1)/(n+1) for the m-th of its n frames, so it moves in equal steps from the earlier chunk (weight 0
    before) to the later one (1 after)."""
    return (frame - later.begin + 1) / (earlier.end - later.begin + 1)


def blend_pair(plan: Sequence[Chunk], frame: int) -> tuple[Chunk, Chunk] | None:
    """(earlier, later) chunks whose cross-fade covers ``frame``, or None where one chunk alone owns it."""
    for earlier, later in zip(plan, plan[1:]):
        if later.begin <= frame < earlier.end:
            return earlier, later
    return None


def cross_fade(earlier: np.ndarray, later: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * earlier + weight * later`` for two RGB uint8 frames, rounded back to uint8."""
    mix = (1.0 - weight) * earlier.astype(np.float32) + weight * later.astype(np.float32)
    return np.clip(np.rint(mix), 0, 255).astype(np.uint8)
