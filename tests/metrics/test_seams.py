"""Seam figures of a distributed run (no Ray needed)."""
from __future__ import annotations

import pytest

from vidstyle.distributed.chunks import plan_chunks
from vidstyle.metrics.seams import seam_figures, seam_transitions


def test_seam_figures_compare_the_steps_around_seams_with_the_interior() -> None:
    plan = plan_chunks(48, 16, 4)
    assert seam_transitions(plan) == [list(range(12, 21)), list(range(28, 37))]
    per_frame = [1.0] * 47
    for t in range(12, 21):
        per_frame[t - 1] = 2.0
    per_frame[29] = 6.0  # frame 30
    figures = seam_figures(per_frame, plan)
    assert figures["interior_mean"] == 1.0 and figures["max_to_median"] == 6.0
    assert figures["mean_ratio"] == pytest.approx((9 * 2.0 + 8 * 1.0 + 6.0) / 18)
