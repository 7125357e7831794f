"""The progress displays say when the stopping rule ended a run before its budget."""
from __future__ import annotations

import io

from rich.console import Console

from vidstyle.progress import bars
from vidstyle.progress.frame_bar import FrameBar, FrameUpdate


def test_the_image_bar_ends_full_at_the_passes_a_converged_run_spent() -> None:
    with bars.iteration_progress(300, quiet=True) as bar:
        bar(120, {"content": 0.1, "style": 0.2})
        bar.finished(120, "converged")
        task = bar.progress.tasks[0]
        assert task.total == 120 and task.completed == 120
        assert "converged after 120 passes" in task.fields["losses"]
    with bars.iteration_progress(300, quiet=True) as capped:
        capped(300, {})
        capped.finished(300, "cap")
        assert capped.progress.tasks[0].total == 300 and "converged" not in capped.progress.tasks[0].fields["losses"]


def test_the_frame_bar_counts_the_frames_that_stopped_early(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("vidstyle.progress.frame_bar.STDERR", Console(file=io.StringIO()))
    bar = FrameBar(3, 0, quiet=False)
    bar.frame_finished(FrameUpdate(0, 3, 1, 600, {"style": 1.0}, 1.0, "cap"))
    assert "converged" not in bar.progress.tasks[0].fields["detail"]
    bar.frame_finished(FrameUpdate(1, 3, 2, 70, {"style": 1.0}, 1.0, "converged"))
    assert "converged at it 70 (1/2 frames early)" in bar.progress.tasks[0].fields["detail"]
