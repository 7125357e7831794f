"""What a run needs once its Config has been resolved (by vidstyle/compose.py): plain frozen values, no Config.

Everything below the composition root (the engine, the per-frame loop, the frame runners, the Ray task and
live mode's session) receives these instead of the Config: each default (preset weights, gamma per unit
system, first-frame iterations, frame rate) is decided once, in ``compose``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch


@dataclass(frozen=True)
class EngineSettings:
    """The stylizer's settings: device, network, loss layers and weights, optimiser, controls, file names."""

    # chosen by compose.select_device; None: by the machine that runs the frames (a Ray worker), through
    # compose.on_this_machine from device_request and precision
    device: torch.device | None
    device_request: str  # auto | cpu | cuda | mps, as asked
    precision: str  # auto | fp32 | bf16 | fp16, as asked
    dtype: torch.dtype | None  # autocast dtype of the network (None: float32)
    weights: str | None  # checkpoint path or None ($VIDSTYLE_WEIGHTS, then the download)
    weights_format: str
    pooling: str
    content_layers: tuple[str, ...]
    style_layers: tuple[tuple[str, float], ...]  # (layer, w_l of eq. 5)
    loss_weights: tuple[tuple[str, float], ...]  # alpha, beta, TV, lambda by term name, preset and units applied
    units: str  # scaled | paper (vidstyle/engine/units.py; engine/build.py makes the Units object)
    optimizer: str  # lbfgs | adam (engine/build.py makes the Optimiser object)
    lr: float
    iterations: int
    init: str  # content | noise | path of an image (engine/build.py makes the Start object)
    init_is_file: bool
    seed: int | None
    color_mode: str  # none | luminance | histogram (engine/build.py makes the ColourMode object)
    style_weights: tuple[float, ...] | None  # blend weights of several styles; None = equal
    style_scale: float
    scales: int
    style_mask: str | None
    content_mask: str | None  # one label image (a folder of per-frame masks is the video pipeline's)
    orphan_labels: str
    capture: bool
    stop_tolerance: float | None  # the stopping rule's tolerance (engine/convergence.py); None: fixed budgets
    temporal_slot: bool  # video with --temporal flow and gamma > 0: every frame's problem holds a temporal term
    quiet: bool

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer any loss reads, without duplicates, in request order."""
        return tuple(dict.fromkeys((*self.content_layers, *(n for n, _ in self.style_layers))))


@dataclass(frozen=True)
class TemporalSettings:
    """How each video frame starts (--temporal none | warm | flow) and the temporal term's weight."""

    mode: str
    iterations: int  # passes of every later frame
    first_iterations: int  # passes of the first frame (and of a cut)
    weight: float  # gamma, resolved for the run's loss units
    flow_quality: str


@dataclass(frozen=True)
class InputSettings:
    """Which frames of a video or frame folder are read, and at which size."""

    start: float | None
    end: float | None
    max_frames: int | None
    size: int | None
    fps: Fraction  # frame rate of a frame-folder input
    audio: bool
    content_mask: str | None  # a file or a folder of per-frame masks
    quiet: bool


@dataclass(frozen=True)
class OutputSettings:
    """Where and how results are written."""

    quiet: bool
    overwrite: bool
    report: str | None
    crf: int
    keep_frames: bool
    work_dir: str | None


@dataclass(frozen=True)
class RunFiles:
    """Every path the options name: read (--init, masks, weights) or written (--report, --work-dir)."""

    init: str | None  # an --init image (None for content | noise)
    content_mask: str | None  # a file, or a folder of per-frame masks
    style_mask: str | None
    weights: str | None  # --weights as given (None: $VIDSTYLE_WEIGHTS, then the download)
    report: str | None
    work_dir: str | None


@dataclass(frozen=True)
class RunSettings:
    """A whole video run, resolved: what the frame runners (this machine, a Ray cluster) are given."""

    engine: EngineSettings
    temporal: TemporalSettings
    input: InputSettings
    output: OutputSettings
    record: dict[str, Any]  # every setting as given, for the report's "settings" and the work-dir fingerprint

    @property
    def quiet(self) -> bool:
        return self.output.quiet
