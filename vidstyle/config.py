"""The one configuration object passed down from the CLI (or the Python API) to every stage."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import VidstyleError


@dataclass(frozen=True)
class Preset:
    """A named set of loss layers and weights."""

    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    content_weight: float  # alpha in eq. 7
    style_weight: float  # beta in eq. 7
    photo_weight: float = 0.0  # lambda of the photorealism term (Luan et al. 2017); 0 = off


# alpha/beta = 1e-3 as in the paper (Fig. 2 B-D). The fast preset stops at relu3_x, so it is ~3x cheaper
# per iteration; its beta is calibrated so that the default result is as stylized as the paper preset's
# (benchmarks/calibrate_presets.py shows the figures).
PRESETS: dict[str, Preset] = {
    "paper": Preset(("relu4_2",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), 1.0, 1e3),
    "fast": Preset(("relu3_2",), ("relu1_1", "relu2_1", "relu3_1"), 1.0, 1e3),
    # photo: photo-to-photo transfer (Luan et al. 2017): the fast preset's layers (within the shared relu3_4
    # weights) plus the matting-Laplacian term, with content init (the default --init). lambda = 1e7 balances
    # the content loss (both grow with the pixel count): on tubingen vs a colour-graded crop of it, 128 px,
    # 150 iterations, the Lab mean colour gap to the reference fell from (23, 17, 41) to (0.1, 1.4, 2.5) while
    # the Sobel-edge correlation with the content stayed 0.94 (0.80 without the term, which paints speckles;
    # 1e8 keeps edges at 0.96 but transfers less colour). benchmarks/bench_photo.py --calibrate repeats this.
    "photo": Preset(("relu3_2",), ("relu1_1", "relu2_1", "relu3_1"), 1.0, 1e3, photo_weight=1e7),
}
ORPHAN_POLICIES = ("error", "whole")


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

    # --- optimisation ---------------------------------------------------------------------------
    optimizer: str = "lbfgs"  # lbfgs | adam
    lr: float = 0.02  # Adam step size, in 0..1 RGB units
    iterations: int = 300
    init: str = "content"  # content | noise | PATH to an image
    seed: int | None = None
    size: int | None = 512  # long side of the processed image in pixels; None = native size

    # --- runtime --------------------------------------------------------------------------------
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 (autocast for the network on CUDA)
    quiet: bool = False
    overwrite: bool = False

    # --- photo: photorealism regulariser and semantic masks (Luan et al. 2017; vidstyle.photo) ---------
    photo_weight: float | None = None  # lambda of the matting-Laplacian term; None = preset's (0 = off)
    content_mask: str | None = None  # colour-coded label image; for videos also a folder of per-frame masks
    style_mask: str | None = None  # colour-coded label image of the style; same colours = same region
    orphan_labels: str = "error"  # content label missing from the style mask: error | whole (whole-style Gram)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise VidstyleError for settings that make no sense."""
        choices = {"preset": PRESETS, "pooling": ("avg", "max"), "optimizer": ("lbfgs", "adam"),
                   "weights_format": ("auto", "torchvision", "caffe"),
                   "device": ("auto", "cpu", "cuda", "mps"), "precision": ("auto", "fp32", "bf16", "fp16"),
                   "orphan_labels": ORPHAN_POLICIES}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise VidstyleError(f"unsupported {name.replace('_', '-')} {value!r}; choose from {', '.join(allowed)}")
        if self.iterations < 0:
            raise VidstyleError("--iterations must be >= 0")
        if self.size is not None and self.size < 16:
            raise VidstyleError("--size must be at least 16 pixels")
        if self.lr <= 0:
            raise VidstyleError("--lr must be positive")
        if (self.content_mask is None) != (self.style_mask is None):
            raise VidstyleError("--content-mask and --style-mask go together; pass both or neither")
        for name in ("content_weight", "style_weight", "tv_weight", "photo_weight"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise VidstyleError(f"--{name.replace('_', '-')} must be >= 0")
        plan = self.layer_plan()
        if not plan.content and not plan.style:
            raise VidstyleError("no loss layers selected")

    def replace(self, **changes: object) -> "Config":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def resolved_photo_weight(self) -> float:
        """lambda of the photorealism term after applying the preset (0 = off)."""
        return PRESETS[self.preset].photo_weight if self.photo_weight is None else float(self.photo_weight)

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
            style_weight=preset.style_weight if self.style_weight is None else self.style_weight,
            tv_weight=self.tv_weight,
        )


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
