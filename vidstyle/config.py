"""The one configuration object passed down from the CLI (or the Python API) to every stage."""
from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import VidstyleError
from .vocab import (
    COLOR_MODES,
    check_device,
    FLOW_QUALITIES,
    INIT_MODES,
    LOSS_UNITS,
    OPTIMIZERS,
    ORPHAN_POLICIES,
    POOLINGS,
    PRECISIONS,
    TEMPORAL_MODES,
    WEIGHT_FORMATS,
    choose,
)


@dataclass(frozen=True)
class UnitWeights:
    """The weights of a preset in one unit system (vidstyle/engine/units.py): beta and lambda (alpha is 1)."""

    style: float  # beta in eq. 7
    photo: float = 0.0  # lambda of the photorealism term (Luan et al. 2017); 0 = off


@dataclass(frozen=True)
class Preset:
    """A named set of loss layers and their weights in each unit system."""

    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    weights: dict[str, UnitWeights]  # by loss units: scaled | paper

    @property
    def content_weight(self) -> float:
        return 1.0  # alpha: the other weights are relative to it


_FAST_LAYERS = (("relu3_2",), ("relu1_1", "relu2_1", "relu3_1"))
# Scaled units (the default): beta = 6 gives the same look at every size and with any checkpoint, the look
# the paper's alpha/beta = 1e-3 gave at 256 px (Tubingen + Starry Night: style ~13-19x below the photo's,
# content ~7x below the painting's from 96 to 256 px; benchmarks/calibrate_look.py, README "Loss units").
# Paper units: alpha/beta = 1e-3 as in the paper (Fig. 2 B-D). The fast preset stops at relu3_2 (2.2-2.3x
# cheaper per pass on the CPU). photo: Luan et al. 2017's photo-to-photo transfer, the fast preset's layers plus
# the matting-Laplacian term (lambda 150 scaled / 3e7 paper from benchmarks/bench_photo.py --calibrate,
# README "Photorealistic mode").
PRESETS: dict[str, Preset] = {
    "paper": Preset(("relu4_2",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                    {"scaled": UnitWeights(6.0), "paper": UnitWeights(1e3)}),
    "fast": Preset(*_FAST_LAYERS, {"scaled": UnitWeights(6.0), "paper": UnitWeights(1e3)}),
    "photo": Preset(*_FAST_LAYERS, {"scaled": UnitWeights(6.0, photo=150.0),
                                    "paper": UnitWeights(1e3, photo=3e7)}),
}
# gamma of the temporal term (flow mode) per unit system, chosen by bench_temporal.py and bench_stability.py
# (README, Temporal coherence)
TEMPORAL_WEIGHTS = {"scaled": 100.0, "paper": 3e11}


MAX_FPS = 1000
MIN_FPS = Fraction(1, 3600)  # one frame an hour; ffmpeg's mp4 muxer fails on frames lasting ~1e5 s
_WEIGHT_CAP = 1e30  # loss weights beyond this overflow float32 losses


@dataclass(frozen=True)
class NumberRule:
    """What a numeric setting accepts: a finite number (an int where ``integer``) in [low, high], or above
    ``low`` itself when ``low_open``; for tuples, every element. None (unset) always passes."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    low_open: bool = False

    def check(self, name: str, value: object) -> None:
        """Raise VidstyleError naming the option when ``value`` breaks the rule."""
        if value is None:
            return
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, bool) or not isinstance(item, numbers.Real) \
                    or (self.integer and not isinstance(item, numbers.Integral)) \
                    or not math.isfinite(item) or (self.low is not None and (item <= self.low if self.low_open
                                                                             else item < self.low)) \
                    or (self.high is not None and item > self.high):
                raise VidstyleError(f"--{name.replace('_', '-')} must be {self._describe()}, got {item!r}")

    def _describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        show = (lambda x: str(int(x))) if self.integer else (lambda x: f"{x:g}")
        low = None if self.low is None else f"{'above' if self.low_open else 'at least'} {show(self.low)}"
        high = None if self.high is None else f"at most {show(self.high)}"
        return f"{kind} {' and '.join(b for b in (low, high) if b)}".strip()


# Every numeric setting and what it accepts: the one rule set, for the CLI and the Python API alike.
NUMBER_RULES: dict[str, NumberRule] = {
    "style_layer_weights": NumberRule(0, _WEIGHT_CAP), "content_weight": NumberRule(0, _WEIGHT_CAP),
    "style_weight": NumberRule(0, _WEIGHT_CAP), "tv_weight": NumberRule(0, _WEIGHT_CAP),
    "lr": NumberRule(0, 100, low_open=True), "iterations": NumberRule(0, 1_000_000, integer=True),
    "stop_tolerance": NumberRule(0, 1),
    "seed": NumberRule(0, 2**63 - 1, integer=True), "size": NumberRule(16, 65_535, integer=True),
    "temporal_weight": NumberRule(0, _WEIGHT_CAP), "first_iterations": NumberRule(0, 1_000_000, integer=True),
    "start": NumberRule(0, 1e9), "end": NumberRule(0, 1e9, low_open=True),
    "max_frames": NumberRule(1, 2**62, integer=True), "crf": NumberRule(0, 51, integer=True),
    "style_weights": NumberRule(0, _WEIGHT_CAP), "style_scale": NumberRule(0, 16, low_open=True),
    "scales": NumberRule(1, 12, integer=True), "photo_weight": NumberRule(0, _WEIGHT_CAP),
}


@dataclass
class Config:
    """Every setting of a run. The CLI fills one; the Python API takes one. Unset (None) = preset's value."""

    # --- losses and network -------------------------------------------------------------------
    preset: str = "paper"
    content_layers: tuple[str, ...] | None = None
    style_layers: tuple[str, ...] | None = None
    style_layer_weights: tuple[float, ...] | None = None  # default: 1/(number of style layers) each
    content_weight: float | None = None  # alpha
    style_weight: float | None = None  # beta
    tv_weight: float = 0.0
    pooling: str = "avg"  # avg (the paper's choice) or max
    weights: str | None = None  # local checkpoint; else $VIDSTYLE_WEIGHTS; else download
    weights_format: str = "auto"  # auto | torchvision | caffe
    loss_units: str = "scaled"  # scaled (dimensionless terms) | paper (eqs. 1 and 4 as printed); vidstyle/engine/units.py

    # --- optimisation ---------------------------------------------------------------------------
    optimizer: str = "lbfgs"  # lbfgs | adam
    lr: float = 0.02  # Adam step size, in 0..1 RGB units
    iterations: int = 300  # the cap: a run stops earlier once its look has stopped changing (stop_tolerance)
    # the stopping rule (vidstyle/engine/convergence.py): stop once the best loss improved by less than this
    # (relative) over the last 50 passes; None = the calibrated default; fixed_budget: spend every pass
    stop_tolerance: float | None = None
    fixed_budget: bool = False
    init: str = "content"  # content | noise | PATH to an image
    seed: int | None = None
    size: int | None = 512  # long side of the processed image in pixels; None = native size

    # --- runtime --------------------------------------------------------------------------------
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 (autocast for the network on CUDA)
    capture: bool = True  # CUDA + Adam: replay one captured pass per frame size (--no-capture: eager, to debug)
    quiet: bool = False
    overwrite: bool = False

    # --- video: videos and frame directories (vidstyle/video/) ------------------------------------
    # none: every frame starts from --init | warm: frame t starts from stylized t-1 | flow (the default
    # by measurement, README "Temporal coherence"): stylized t-1 warped along the optical flow + temporal loss
    temporal: str = "flow"
    temporal_weight: float | None = None  # gamma of the temporal term (flow mode); None = TEMPORAL_WEIGHTS
    flow_quality: str = "fine"  # fast | medium | fine: DIS optical-flow settings (vidstyle/temporal/flow.py)
    first_iterations: int | None = None  # iterations for the first frame; None = 2 x iterations
    start: float | None = None  # seconds
    end: float | None = None  # seconds (exclusive)
    max_frames: int | None = None
    fps: str | None = None  # frame rate of a frame-directory input, e.g. "30000/1001"; None = 25
    crf: int = 18  # encoder quality (0 = lossless .. 51 = worst)
    audio: bool = True  # keep the input's audio (--no-audio: False)
    work_dir: str | None = None  # None = OUTPUT.work next to OUTPUT
    keep_frames: bool = False  # keep the work directory after success
    report: str | None = None  # path of a JSON report

    # --- style controls (applied by the engine: vidstyle/engine/targets.py, pyramid.py) -------------
    preserve_colors: str = "none"  # none | luminance | histogram (Gatys et al. 2016)
    style_weights: tuple[float, ...] | None = None  # blend weights of several styles, normalised; None = equal
    style_scale: float = 1.0  # style image long side = style_scale x the content's long side
    scales: int = 1  # coarse to fine: resolutions, each half the next, the finest at --size

    # --- photo: photorealism regulariser and semantic masks (Luan et al. 2017; engine/terms.py, io/mask_files.py)
    photo_weight: float | None = None  # lambda of the matting-Laplacian term; None = preset's (0 = off)
    content_mask: str | None = None  # colour-coded label image; for videos also a folder of per-frame masks
    style_mask: str | None = None  # colour-coded label image of the style; same colours = same region
    orphan_labels: str = "error"  # content label missing from the style mask: error | whole (whole-style Gram)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise VidstyleError for settings that make no sense."""
        choices = {"preset": tuple(PRESETS), "pooling": POOLINGS, "optimizer": OPTIMIZERS,
                   "weights_format": WEIGHT_FORMATS, "loss_units": LOSS_UNITS,
                   "precision": PRECISIONS, "preserve_colors": COLOR_MODES, "temporal": TEMPORAL_MODES,
                   "flow_quality": FLOW_QUALITIES, "orphan_labels": ORPHAN_POLICIES}
        for name, allowed in choices.items():
            choose(name, getattr(self, name), allowed)
        check_device(self.device)
        for name in PATH_FIELDS:
            check_path_option(f"--{name.replace('_', '-')}", getattr(self, name))
        for name, rule in NUMBER_RULES.items():
            rule.check(name, getattr(self, name))
        self._validate_video()
        self._validate_style_controls()
        self._validate_photo()
        for option, layers, weight in (("--content-layers", self.content_layers, "--content-weight"),
                                       ("--style-layers", self.style_layers, "--style-weight")):
            if layers is not None and not layers:  # an empty override would silently drop the term
                raise VidstyleError(f"{option} names no layer; name at least one (to drop the term, {weight} 0)")
        self.layer_plan()

    def _validate_photo(self) -> None:
        if (self.content_mask is None) != (self.style_mask is None):
            raise VidstyleError("--content-mask and --style-mask go together; pass both or neither")

    def _validate_video(self) -> None:
        if self.end is not None and self.end <= (self.start or 0):
            raise VidstyleError("--end must be later than --start")
        if self.fps is not None:
            self.frame_rate()

    def frame_rate(self) -> Fraction:
        """--fps as an exact fraction (frame-directory input; default 25)."""
        if self.fps is None:
            return Fraction(25)
        try:
            rate = Fraction(str(self.fps))
        except (ValueError, ZeroDivisionError):
            rate = Fraction(0)
        if not MIN_FPS <= rate <= MAX_FPS:
            raise VidstyleError(f"--fps must be a number or fraction like 30000/1001 from {MIN_FPS} (one frame an "
                                f"hour) to {MAX_FPS}, got {self.fps!r}")
        return rate

    @property
    def first_frame_iterations(self) -> int:
        """Iterations for the first frame of a video (--first-iterations, default twice --iterations)."""
        return 2 * self.iterations if self.first_iterations is None else self.first_iterations

    def _validate_style_controls(self) -> None:
        if self.style_weights is not None and sum(self.style_weights) <= 0:
            raise VidstyleError("--style-weights must have a positive sum")

    def replace(self, **changes: object) -> "Config":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def content_mask_is_folder(self) -> bool:
        """A folder of per-frame content masks (videos) rather than one mask file."""
        return bool(self.content_mask) and Path(self.content_mask).is_dir()

    def init_is_file(self) -> bool:
        """--init names an image file rather than a mode."""
        return self.init not in INIT_MODES

    def resolved_photo_weight(self) -> float:
        """lambda of the photorealism term after applying the preset and the units (0 = off)."""
        preset = PRESETS[self.preset].weights[self.loss_units].photo
        return preset if self.photo_weight is None else float(self.photo_weight)

    def resolved_temporal_weight(self) -> float:
        """gamma of the temporal term (flow mode) in the run's units."""
        return TEMPORAL_WEIGHTS[self.loss_units] if self.temporal_weight is None else float(self.temporal_weight)

    def layer_plan(self) -> "LayerPlan":
        """The concrete loss layers and weights after applying the preset and any overrides."""
        preset = PRESETS[self.preset]
        content = self.content_layers if self.content_layers is not None else preset.content_layers
        style = self.style_layers if self.style_layers is not None else preset.style_layers
        if self.style_layer_weights is not None:
            if len(self.style_layer_weights) != len(style):
                raise VidstyleError(
                    f"--style-layer-weights has {len(self.style_layer_weights)} values for {len(style)} style layers")
            style_w = tuple(float(w) for w in self.style_layer_weights)
        else:
            style_w = tuple(1.0 / len(style) for _ in style) if style else ()
        return LayerPlan(
            content=tuple(content),
            style=tuple(zip(style, style_w)),
            content_weight=preset.content_weight if self.content_weight is None else self.content_weight,
            style_weight=preset.weights[self.loss_units].style if self.style_weight is None else self.style_weight,
            tv_weight=self.tv_weight,
        )


def checked_config(value: object, name: str = "config") -> Config:
    """``value`` when it is a Config; a VidstyleError naming the argument otherwise (the Python API's entries:
    a dict or None failed deep inside with an AttributeError)."""
    if not isinstance(value, Config):
        kind = "None" if value is None else f"a {type(value).__name__}"
        raise VidstyleError(f"{name} must be a vidstyle.Config, got {kind}")
    return value


# the Config fields that name files (init also takes the words content and noise)
PATH_FIELDS = ("weights", "init", "work_dir", "report", "content_mask", "style_mask")


def check_path_option(option: str, value: object) -> None:
    """VidstyleError unless the path given as ``option`` (its name as the user typed it: ``--report``,
    ``OUTPUT``) is None or a non-empty path: a number or a list failed deep inside with a TypeError, and ''
    named the current folder (a report path of '' ran the whole job, then failed to write '.'; --weights ''
    fell back to the download)."""
    if value is None:
        return
    if not isinstance(value, (str, os.PathLike)):
        raise VidstyleError(f"{option} must be a path (text), got a value of type {type(value).__name__}")
    if not os.fspath(value).strip():
        raise VidstyleError(f"{option} is an empty path")


@dataclass(frozen=True)
class LayerPlan:
    """Resolved loss specification: which layers, with which weights (eqs. 1, 5, 7)."""

    content: tuple[str, ...]
    style: tuple[tuple[str, float], ...]
    content_weight: float
    style_weight: float
    tv_weight: float = 0.0

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer any loss reads, without duplicates, in request order."""
        seen: dict[str, None] = {}
        for name in (*self.content, *(n for n, _ in self.style)):
            seen.setdefault(name, None)
        return tuple(seen)
