"""Figures of a finished live session (the summary line at exit) and its --report file (JSON)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from ..io.report_files import write_report
from ..io.camera import Camera
from .config import LiveConfig


@dataclass
class LiveSummary:
    """Figures of a finished session (also the JSON of --report, with the settings)."""

    frames_shown: int = 0
    seconds: float = 0.0  # from the first frame shown to the end
    startup_seconds: float | None = None  # from the start (weights, style Grams, warm-up) to the first frame shown
    display_fps: float = 0.0
    updates: int = 0
    updates_per_second: float = 0.0
    latency_ms_mean: float | None = None
    latency_ms_median: float | None = None
    latency_ms_max: float | None = None
    updates_by_style: dict[str, int] = field(default_factory=dict)
    camera_frames: int = 0
    stop_reason: str = ""
    recorded_frames: int = 0
    record: str | None = None
    snapshots: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The figures as one line for the terminal."""
        latency = f"{self.latency_ms_mean:.0f} ms" if self.latency_ms_mean is not None else "n/a"
        return (f"{self.frames_shown} frames shown in {self.seconds:.1f} s ({self.display_fps:.1f} fps display), "
                f"{self.updates} stylization updates ({self.updates_per_second:.2f}/s), mean latency {latency}; "
                f"stopped: {self.stop_reason}")


def write_live_report(path: str | os.PathLike, summary: LiveSummary, config: LiveConfig, names: list[str],
                 device: str, cam: Camera) -> None:
    """--report: the figures and the settings as JSON, written atomically."""
    data: dict[str, Any] = {"command": "live", **dataclasses.asdict(summary),
                            "camera": {"source": cam.name, "file": cam.is_file, "fps": float(cam.fps),
                                       "size": camera_size(cam)},
                            "device": device, "styles": names, "passes_per_update": config.engine.iterations,
                            "settings": {**{k: v for k, v in dataclasses.asdict(config).items() if k != "engine"},
                                         "engine": dataclasses.asdict(config.engine)}}
    write_report(path, data)


def camera_size(cam: Camera) -> str:
    """WxH of the camera's processed frames."""
    return f"{cam.shape[1]}x{cam.shape[0]}" if cam.shape else "?"
