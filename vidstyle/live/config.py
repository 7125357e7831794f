"""Settings of live mode: one LiveConfig (the engine's Config plus the live-only fields) is passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from ..config import Config, check_path_option
from ..errors import VidstyleError
from ..scopes import option_name
from ..compose import select_device
from ..vocab import FLOW_QUALITIES, choose

# Live defaults, measured with benchmarks/bench_live.py (see README, "Live mode"). Adam, because a fresh
# L-BFGS restarted every update with 2-3 evaluations (torch's, with a line search) made no progress at all,
# while Adam moves every pixel by about --lr per pass from the first one. The persistent L-BFGS's first step
# moves the steepest pixel by 0.05; live mode has not been measured with it.
LIVE_PRESET = "fast"
LIVE_OPTIMIZER = "adam"
# The first update is a cold start: L-BFGS paints it furthest in the passes it gets, before the display opens
FIRST_OPTIMIZER, FIRST_ITERATIONS = "lbfgs", 40
CPU_SIZE, CPU_ITERATIONS = 160, 2  # >= 2 updates/s on 2 CPU cores at 160 px
GPU_SIZE, GPU_ITERATIONS = 384, 10


def device_defaults(device: torch.device) -> tuple[int, int]:
    """(size, iterations per update) for live mode on ``device``: small on CPU, larger on a GPU."""
    return (CPU_SIZE, CPU_ITERATIONS) if device.type == "cpu" else (GPU_SIZE, GPU_ITERATIONS)


def live_engine_config(*, size: int | None = None, iterations: int | None = None, **fields: object) -> Config:
    """A Config with the live defaults (fast preset, Adam, size and iterations per update from the device)."""
    fields.setdefault("preset", LIVE_PRESET)
    fields.setdefault("optimizer", LIVE_OPTIMIZER)
    default_size, default_iterations = device_defaults(select_device(str(fields.get("device", "auto"))))
    return Config(size=default_size if size is None else size,
                  iterations=default_iterations if iterations is None else iterations, **fields)  # type: ignore[arg-type]


@dataclass
class LiveConfig:
    """Everything a live session needs. ``engine.iterations`` is the number of passes per stylization update."""

    engine: Config = field(default_factory=live_engine_config)
    camera: str = "0"  # device index, video file or stream URL
    record: str | None = None  # mp4 (or .mov/.mkv/.webm) of exactly the frames shown
    window: bool = True  # False: headless (--no-window)
    max_frames: int | None = None  # stop after this many frames shown
    mirror: bool = False
    report: str | None = None  # JSON figures at exit
    snapshot_dir: str = "."  # where the s key writes PNG snapshots
    flow_quality: str = "fast"  # optical flow of the display warps (vocab.FLOW_QUALITIES)
    threads: int | None = None  # torch threads of the stylization worker; None = all cores (CPU)
    window_size: int = 640  # long side of the picture in the window (the recording keeps --size)
    first_iterations: int = FIRST_ITERATIONS  # passes of the first update (L-BFGS), made before the display opens

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise VidstyleError for settings that make no sense."""
        if self.engine.size is None:
            raise VidstyleError("live mode needs a processing size (--size)")
        if self.engine.iterations < 1:
            raise VidstyleError("--iterations must be at least 1 in live mode (passes per stylization update)")
        if self.engine.style_weights is not None:
            raise VidstyleError("live mode cycles through the STYLE list with the n/p keys; --style-weights "
                                "(blending) is not supported here")
        if not 1 <= self.first_iterations <= 100_000:
            raise VidstyleError("--first-iterations must be between 1 and 100000 in live mode")
        if self.max_frames is not None and self.max_frames < 1:
            raise VidstyleError("--max-frames must be at least 1")
        if self.threads is not None and not 1 <= self.threads <= 1024:
            raise VidstyleError("--threads must be between 1 and 1024")
        choose("flow_quality", self.flow_quality, FLOW_QUALITIES)
        for name in ("record", "report", "snapshot_dir"):
            check_path_option(option_name(name), getattr(self, name))
        if not 64 <= self.window_size <= 16384:
            raise VidstyleError("--window-size must be between 64 and 16384 pixels")

    def worker_threads(self, device: torch.device) -> int:
        """Torch threads for the stylization worker: on CPU all cores. The display's flow and warps take a few
        ms a frame: on 2 cores it kept the camera's 25 fps with the worker on both, which made 1.3x the
        updates a second of a worker on one (benchmarks/bench_live.py --clips)."""
        if self.threads is not None:
            return self.threads
        if device.type != "cpu":
            return 1
        return available_cores()


def shows_passes(device: torch.device) -> bool:
    """Whether the display shows every pass of an update as it finishes, not only the last. On CPU: reading
    the image costs nothing there, and the display gets a picture of a newer camera frame about 0.4 of an
    update sooner (benchmarks/bench_live.py --clips: more style and content kept). On a GPU each read is a
    sync of the update's queued passes, so only the last pass is read."""
    return device.type == "cpu"


def available_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS / Windows
