"""What the JSON report of a video run (--report) holds: settings, device, per-frame iterations, losses and
seconds, and totals (written by vidstyle/io/report_files.py)."""
from __future__ import annotations

from typing import Any

from ..vocab import CONVERGED


def build_report(*, settings: dict[str, Any], device: str, input_path: str, style: list[str], output: str,
                 kinds: dict[str, str], video: dict[str, Any], records: dict[int, dict[str, Any]], frames: int,
                 computed: int, wall_seconds: float, resumed: int | None = None) -> dict[str, Any]:
    """The JSON report: settings, device, per-frame iterations/losses/seconds and totals. ``resumed``: output
    frames finished before this run (default: frames - computed)."""
    per_frame = [{"index": i, **records.get(i, {"resumed": True})} for i in range(frames)]
    seconds = sum(r.get("seconds", 0.0) for r in per_frame)
    return {
        "input": input_path, "style": style, "output": output, "kinds": kinds, "device": device,
        "settings": settings, "video": video, "frames": per_frame,
        "totals": {"frames": frames, "computed_this_run": computed, "resumed": frames - computed if resumed is None else resumed,
                   "iterations": sum(r.get("iterations", 0) for r in per_frame),
                   # frames the stopping rule ended before their budget (their "stopped" is "converged")
                   "converged_frames": sum(r.get("stopped") == CONVERGED for r in per_frame),
                   "stylize_seconds": seconds, "seconds_per_frame": seconds / frames if frames else 0.0,
                   "wall_seconds_this_run": wall_seconds,
                   "final_losses": per_frame[-1].get("losses", {}) if per_frame else {}},
    }
