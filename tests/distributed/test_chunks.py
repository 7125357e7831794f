"""Chunk planning and seam maths of distributed runs (no Ray needed)."""
from __future__ import annotations

import numpy as np
import pytest

from vidstyle.distributed.chunks import (
    blend_pair,
    blend_weight,
    cross_fade,
    near_border,
    plan_chunks,
)


def test_plan_covers_every_frame_once_with_overlaps_on_both_sides_of_borders() -> None:
    plan = plan_chunks(48, 16, 4)
    assert [(c.begin, c.start, c.stop, c.end) for c in plan] == [(0, 0, 16, 20), (12, 16, 32, 36), (28, 32, 48, 48)]
    owned = [f for c in plan for f in range(c.start, c.stop)]
    assert owned == list(range(48))
    assert sum(c.length for c in plan) == 64


def test_a_run_on_never_reaches_the_lead_in_of_the_chunk_after_next() -> None:
    plan = plan_chunks(20, 8, 7)  # the middle chunk is shorter than two overlaps
    assert [(c.begin, c.end) for c in plan] == [(0, 9), (1, 20), (9, 20)]
    assert all(plan[i].end <= plan[i + 2].begin for i in range(len(plan) - 2))


def test_borders_snap_to_nearby_shot_changes_without_overlap() -> None:
    plan = plan_chunks(50, 16, 4, cuts=[18, 40])  # 18 is within 4 of 16; 40 is 8 away from 32 and 48
    assert [(c.begin, c.start, c.cut) for c in plan] == [(0, 0, False), (18, 18, True), (28, 32, False),
                                                         (44, 48, False)]
    assert [c.trail for c in plan] == [0, 4, 2, 0]  # no run-on into a shot change
    assert all(near_border(t, 16) for t in (12, 16, 20, 28, 36)) and not any(near_border(t, 16) for t in (5, 10, 24))


def test_bad_chunk_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        plan_chunks(10, 4, 4)


def test_cross_fade_moves_in_equal_steps_over_lead_in_and_run_on() -> None:
    plan = plan_chunks(48, 16, 4)
    earlier, later = plan[0], plan[1]
    assert blend_pair(plan, 11) is None and blend_pair(plan, 20) is None
    assert all(blend_pair(plan, f) == (earlier, later) for f in range(12, 20))
    weights = [blend_weight(earlier, later, f) for f in range(later.begin, earlier.end)]
    assert weights == pytest.approx([m / 9 for m in range(1, 9)])
    a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 200, np.uint8)
    assert cross_fade(a, b, 0.25)[0, 0, 0] == 50


def test_gpus_per_task_above_one_is_refused_and_zero_runs_on_cpu_workers():
    """A chunk's stylizer uses one device: --gpus-per-task 2 reserved a GPU no chunk used. With 0 on a cluster
    that has GPUs, Ray hides them from the tasks, so --device cuda failed on every worker: they run on the CPU."""
    import pytest

    from vidstyle.distributed.ray_options import RayOptions
    from vidstyle.errors import VidstyleError

    with pytest.raises(VidstyleError, match="--gpus-per-task above 1"):
        RayOptions(gpus_per_task=2).validate()
    RayOptions(gpus_per_task=0.5).validate()
    gpus = {"CPU": 16.0, "GPU": 2.0}
    assert RayOptions(gpus_per_task=0).worker_device(gpus, "auto") == "cpu"
    assert RayOptions(gpus_per_task=0).task_resources(gpus)[0] == {"num_cpus": 1.0}
    with pytest.raises(VidstyleError, match="--gpus-per-task 0 runs the chunks on CPU workers"):
        RayOptions(gpus_per_task=0).worker_device(gpus, "cuda")
    assert RayOptions(gpus_per_task=1).worker_device(gpus, "auto") == "auto"
    assert RayOptions(gpus_per_task=0).worker_device({"CPU": 16.0}, "auto") == "auto"
