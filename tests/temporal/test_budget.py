"""The quality-targeted pass budget of flow mode (vidstyle/temporal/budget.py and TemporalPlanner.finish)."""
from __future__ import annotations

import numpy as np

from vidstyle.engine import StylizeResult
from vidstyle.temporal.budget import PassBudget
from vidstyle.temporal.propagate import FrameStart, TemporalPlanner


def test_no_reference_no_extra_passes() -> None:
    """Before a shot's first frame was seen (a resumed run) a frame gets --iterations only."""
    assert PassBudget(8).more({"style": 100.0, "content": 100.0}, 8) == 0


def test_a_lagging_frame_gets_more_passes_up_to_the_cap() -> None:
    budget = PassBudget(8)
    assert budget.reference is None
    budget.shot_started({"style": 1.0, "content": 2.0, "total": 9.0})
    assert budget.reference == {"style": 1.0, "content": 2.0}  # the terms "kept" is judged by, nothing else
    assert budget.more({"style": 1.05, "content": 2.1}, 8) == 0  # within 10 %
    assert budget.more({"style": 1.2, "content": 2.0}, 8) == 4  # style lags: half a budget more
    assert budget.more({"style": 1.0, "content": 2.5}, 8) == 4  # content lags
    assert budget.more({"style": 1.2, "content": 2.0}, 12) == 0  # the cap: 1.5 x --iterations
    assert PassBudget(20).limit == 30 and PassBudget(1).step == 1


def result(style: float, passes: int) -> StylizeResult:
    return StylizeResult(np.full((4, 4, 3), passes, np.uint8), {"style": style, "content": 1.0}, passes, 0.5)


def test_planner_spends_passes_until_the_frame_catches_up() -> None:
    """finish(): a cold start sets the shot's reference; a later frame gets more passes while it lags and the
    passes, seconds and image of the continuation are what the frame reports."""
    planner = TemporalPlanner("flow", iterations=8, first_iterations=40)
    first = planner.finish(FrameStart(None, 40), result(1.0, 40), lambda image, n: result(0.0, n))
    assert first.iterations == 40
    calls: list[int] = []

    def again(image: np.ndarray, passes: int) -> StylizeResult:
        calls.append(passes)
        return result(1.05, passes)  # caught up after the extra passes

    warm = FrameStart(np.zeros((4, 4, 3), np.uint8), 8, cold=False)
    done = planner.finish(warm, result(1.5, 8), again)
    assert calls == [4] and done.iterations == 12 and done.seconds == 1.0 and done.losses["style"] == 1.05
    assert planner.finish(warm, result(1.0, 8), again).iterations == 8 and calls == [4]  # on target: no more
    none = TemporalPlanner("none", iterations=8, first_iterations=40)
    none.finish(FrameStart(None, 40), result(1.0, 40), again)
    assert none.finish(FrameStart(None, 8), result(9.0, 8), again).iterations == 8  # flow mode only
