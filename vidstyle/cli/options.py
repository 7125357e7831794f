"""Command-line options and their translation into one Config."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from ..config import PRESETS, TEMPORAL_WEIGHTS, Config
from ..engine.convergence import TOLERANCE, WINDOW
from ..errors import VidstyleError
from ..vocab import (
    COLOR_MODES,
    FLOW_QUALITIES,
    LOSS_UNITS,
    OPTIMIZERS,
    ORPHAN_POLICIES,
    POOLINGS,
    PRECISIONS,
    TEMPORAL_MODES,
    WEIGHT_FORMATS,
)

if TYPE_CHECKING:
    from ..distributed.ray_options import RayOptions


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) instead of a usage dump.

    A value that starts like a negative number (-1, -.5, -1,1,1, -inf, -nan) is taken as an option's value,
    not as an unknown option, so it reaches validation and gets its own clear message.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(?:\.?\d|inf|nan)", re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _number(convert: Callable[[str], float], what: str) -> Callable[[str], float]:
    """An argparse type that only turns the text into a number (one-line message otherwise); which values
    are allowed is decided in one place, Config.validate (config.NUMBER_RULES), for the CLI and the API."""
    def parse(text: str) -> float:
        try:
            return convert(text.strip())
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    return parse


_integer = _number(int, "an integer")
_real = _number(float, "a number")
_reals = _number(lambda text: tuple(float(part) for part in _names(text)), "comma-separated numbers")


def add_engine_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Options of the style engine shared by every command (losses, weights, optimiser, device)."""
    d = defaults or Config()
    preset_help = "; ".join(f"{k}: content {','.join(p.content_layers)}, style {','.join(p.style_layers)}, "
                            f"alpha 1, beta {p.weights['scaled'].style:g}"
                            + (f", photo weight {p.weights['scaled'].photo:g}" if p.weights["scaled"].photo else "")
                            for k, p in PRESETS.items()) + " (scaled units; paper units: beta 1000)"
    g = parser.add_argument_group("style engine")
    g.add_argument("--preset", choices=sorted(PRESETS), default=d.preset,
                   help=f"loss layers and weights (default: %(default)s). {preset_help}")
    g.add_argument("--content-layers", type=_names, metavar="L[,L]", help="override the preset's content layers")
    g.add_argument("--style-layers", type=_names, metavar="L[,L]", help="override the preset's style layers")
    g.add_argument("--style-layer-weights", type=_reals, metavar="W[,W]",
                   help="w_l per style layer (default: 1/number of style layers)")
    g.add_argument("--content-weight", type=_real, metavar="ALPHA", help="alpha of eq. 7 (default: the preset's)")
    g.add_argument("--style-weight", type=_real, metavar="BETA", help="beta of eq. 7 (default: the preset's)")
    g.add_argument("--tv-weight", type=_real, default=d.tv_weight, help="total-variation weight (default: %(default)s)")
    g.add_argument("--pooling", choices=POOLINGS, default=d.pooling, help="VGG pooling (default: %(default)s)")
    g.add_argument("--weights", metavar="PATH", help="VGG-19 checkpoint (default: $VIDSTYLE_WEIGHTS, else "
                   "torchvision's, downloaded once into the torch hub cache)")
    g.add_argument("--weights-format", choices=WEIGHT_FORMATS, default=d.weights_format,
                   help="input convention of the checkpoint (default: %(default)s: the checkpoint's "
                   "'input_convention' entry, else caffe if the file name contains 'caffe', else torchvision)")
    g.add_argument("--loss-units", choices=LOSS_UNITS, default=d.loss_units,
                   help="scaled: every loss term is dimensionless (the same look at every size and with every "
                   "checkpoint); paper: eqs. 1 and 4 as printed, for the paper's weights (default: %(default)s)")
    o = parser.add_argument_group("optimisation")
    o.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                   help="(default: %(default)s on every device: both run as one persistent pass, captured and "
                   "replayed on CUDA; L-BFGS reaches a given loss in about half Adam's passes for about 1.3x "
                   "Adam's cost per pass on a GPU, the same on a CPU; docs/optimisers.md)")
    o.add_argument("--lr", type=_real, default=d.lr, help="Adam step size in 0..1 RGB units (default: %(default)s)")
    o.add_argument("--iterations", type=_integer, default=d.iterations,
                   help="most forward/backward passes per image (default: %(default)s); a run stops earlier "
                   "once its look has stopped changing (--stop-tolerance)")
    o.add_argument("--stop-tolerance", type=_real, metavar="T",
                   help="stop an image or frame once its best loss improved by less than T (relative) over the "
                   f"last {WINDOW} passes (default: {TOLERANCE:g}, calibrated to keep the full budget's look "
                   "within 2 %%; docs/stopping.md)")
    o.add_argument("--fixed-budget", action="store_true",
                   help="spend every pass of --iterations / --first-iterations (no early stop)")
    o.add_argument("--init", default=d.init, metavar="content|noise|PATH",
                   help="start image (default: %(default)s)")
    o.add_argument("--seed", type=_integer, help="random seed; makes CPU runs reproducible (default: none)")
    o.add_argument("--size", type=_integer, default=d.size,
                   help="long side in pixels of the processed image and of the output; the style image is "
                   "scaled to the same long side; a video's sides are made even (default: %(default)s)")
    p = parser.add_argument_group("photorealism and semantic masks (Luan et al. 2017)")
    p.add_argument("--photo-weight", type=_real, metavar="LAMBDA",
                   help="weight of the matting-Laplacian photorealism term that keeps the output a locally affine "
                   "colour transform of the content (default: the preset's; 0 = off, photo preset "
                   f"{PRESETS['photo'].weights['scaled'].photo:g} in scaled units)")
    p.add_argument("--content-mask", metavar="PATH", help="colour-coded label image of the content (one flat colour "
                   "per region); for videos and frame folders also a folder of per-frame masks in frame order")
    p.add_argument("--style-mask", metavar="PATH", help="colour-coded label image of the style; regions of the "
                   "same colour are matched, each with its own style statistics")
    p.add_argument("--orphan-labels", choices=ORPHAN_POLICIES, default=d.orphan_labels,
                   help="a content label missing from the style mask: error, or use the whole style's "
                   "statistics for it (default: %(default)s)")
    r = parser.add_argument_group("runtime")
    r.add_argument("--device", default=d.device, metavar="{auto,cpu,cuda,cuda:N,mps}",
                   help="(default: %(default)s: cuda, then mps, then cpu; cuda:N picks one GPU of several)")
    r.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="network precision (default: %(default)s = fp32, with TF32 convolutions on CUDA; "
                   "bf16/fp16 autocast is opt-in and experimental, see README)")
    r.add_argument("--no-capture", dest="capture", action="store_false",
                   help="CUDA with Adam: run every pass eagerly instead of replaying one captured pass (debugging)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    add_style_control_options(parser, d)


def add_style_control_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Style controls (vidstyle/engine/targets.py, pyramid.py): colour preservation, blending, style scale, coarse to fine."""
    d = defaults or Config()
    s = parser.add_argument_group("style controls")
    s.add_argument("--preserve-colors", choices=COLOR_MODES, default=d.preserve_colors,
                   help="keep the content's colours (Gatys et al. 2016): luminance = transfer the luminance only and "
                   "keep the content's chroma; histogram = match the style's colour mean and covariance to the "
                   "content's first (default: %(default)s)")
    s.add_argument("--style-weights", type=_reals, metavar="W[,W]",
                   help="blend weights of several comma-separated STYLE images, normalised to sum 1 (default: equal)")
    s.add_argument("--style-scale", type=_real, default=d.style_scale, metavar="F",
                   help="resize the style image to F x the content's long side before its Grams are computed; "
                   "below 1 = larger brush strokes (default: %(default)s)")
    s.add_argument("--scales", type=_integer, default=d.scales, metavar="N",
                   help="coarse to fine: optimise at N resolutions doubling up to --size, each result the next one's "
                   "start; --iterations stays the budget in full-size passes (3/4 of it spent at full size) "
                   "(default: %(default)s)")


def style_paths(text: str) -> list[Path]:
    """STYLE: one image path, or a comma-separated list of them (a path that exists as given is never split)."""
    if os.path.exists(text) or "," not in text:  # os.path: a name too long is "no", not an exception
        return [Path(text)]
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise VidstyleError(f"empty style image name in {text!r}")
    return [Path(part) for part in parts]


def add_video_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Options for videos and frame directories."""
    d = defaults or Config()
    v = parser.add_argument_group("video and frame directories")
    v.add_argument("--temporal", choices=TEMPORAL_MODES, default=d.temporal,
                   help="none: every frame starts from --init; warm: frame t starts from stylized frame t-1; "
                   "flow: from stylized frame t-1 warped along the optical flow, held to it by a temporal loss "
                   "outside occlusions, cold start at shot changes (default: %(default)s)")
    v.add_argument("--temporal-weight", type=_real, default=d.temporal_weight, metavar="GAMMA",
                   help="weight of the temporal loss, mean of mask*(x - warped previous)^2 in 0..1 RGB, "
                   f"with --temporal flow (default: {TEMPORAL_WEIGHTS['scaled']:g}; {TEMPORAL_WEIGHTS['paper']:g} "
                   "with --loss-units paper)")
    v.add_argument("--flow-quality", choices=FLOW_QUALITIES, default=d.flow_quality,
                   help="DIS optical flow for --temporal flow: fast, medium or fine (default: %(default)s)")
    v.add_argument("--first-iterations", type=_integer, default=d.first_iterations, metavar="N",
                   help="iterations for the first frame; --iterations is used for the rest (default: twice "
                   "--iterations)")
    v.add_argument("--start", type=_real, default=d.start, metavar="SECONDS", help="first second to stylize")
    v.add_argument("--end", type=_real, default=d.end, metavar="SECONDS", help="stop at this second")
    v.add_argument("--max-frames", type=_integer, default=d.max_frames, metavar="N",
                   help="stylize at most N frames")
    v.add_argument("--fps", default=d.fps, metavar="RATE",
                   help="frame rate of a frame-directory INPUT, e.g. 24 or 30000/1001; 1/3600 to 1000 (default: 25)")
    v.add_argument("--crf", type=_integer, default=d.crf,
                   help="video quality, 0 (lossless) .. 51 (worst); H.264, VP9 for .webm (default: %(default)s)")
    v.add_argument("--no-audio", dest="audio", action="store_false", help="drop the input's audio")
    v.add_argument("--work-dir", default=d.work_dir, metavar="DIR",
                   help="where finished frames are kept for resuming (default: OUTPUT.work next to OUTPUT)")
    v.add_argument("--keep-frames", action="store_true", help="keep the work directory after success")
    v.add_argument("--report", default=d.report, metavar="PATH",
                   help="write a JSON report: settings, device, per-frame iterations, losses and seconds")


def add_distributed_options(parser: argparse.ArgumentParser) -> None:
    """Options of a distributed run on a Ray cluster (vidstyle/distributed; needs vidstyle[ray])."""
    from ..distributed.ray_options import RayOptions

    d = RayOptions()
    g = parser.add_argument_group("distributed (Ray; pip install 'vidstyle[ray]')")
    g.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="stylize a video as chunks on a Ray cluster: without ADDRESS a local Ray starts (all local "
                   "GPUs, else one worker per core); with one (e.g. auto, host:6379, ray://host:10001) it joins "
                   "that cluster, whose workers must read INPUT at the same path. Put --ray after the positional "
                   "arguments or write --ray=ADDRESS")
    g.add_argument("--chunk-frames", type=_integer, default=None, metavar="N",
                   help=f"frames per chunk; borders move to a nearby shot change (default: {d.chunk_frames})")
    g.add_argument("--overlap", type=_integer, default=None, metavar="K",
                   help=f"frames each chunk starts before its border and runs on past it; the 2K frames "
                   f"around a border are cross-faded between the two chunks (default: {d.overlap})")
    g.add_argument("--workers", type=_integer, default=None, metavar="N",
                   help="chunks computed at once (default: as many as the cluster's GPUs or cores allow)")
    g.add_argument("--gpus-per-task", type=_real, default=None, metavar="F",
                   help=f"GPUs per chunk on a cluster with GPUs, at most 1; 0.5 = two chunks share a GPU, 0 = CPU "
                   f"workers (default: {d.gpus_per_task:g})")
    g.add_argument("--cpus-per-task", type=_real, default=None, metavar="F",
                   help=f"CPU cores (and torch threads) per chunk without GPUs (default: {d.cpus_per_task:g})")


DISTRIBUTED_FIELDS = ("chunk_frames", "overlap", "workers", "gpus_per_task", "cpus_per_task")


def ray_options_from_args(args: argparse.Namespace) -> "RayOptions | None":
    """The RayOptions of ``--ray`` (None without it); the chunk options without --ray are an error."""
    from ..distributed.ray_options import RayOptions

    given = {name: getattr(args, name) for name in DISTRIBUTED_FIELDS if getattr(args, name, None) is not None}
    if args.ray is None:
        if given:
            raise VidstyleError(f"{', '.join('--' + n.replace('_', '-') for n in given)} need --ray")
        return None
    options = RayOptions(address=args.ray or None, **given)
    options.validate()
    return options


VIDEO_FIELDS = ("temporal", "temporal_weight", "flow_quality", "first_iterations", "start", "end", "max_frames", "fps", "crf", "audio", "work_dir",
                "keep_frames", "report")

ENGINE_FIELDS = ("preset", "content_layers", "style_layers", "style_layer_weights", "content_weight",
                 "style_weight", "tv_weight", "pooling", "weights", "weights_format", "loss_units", "optimizer", "lr",
                 "iterations", "stop_tolerance", "fixed_budget", "init", "seed", "size", "device", "precision", "capture", "quiet", "overwrite",
                 # style controls
                 "preserve_colors", "style_weights", "style_scale", "scales",
                 # photo
                 "photo_weight", "content_mask", "style_mask", "orphan_labels")


def given_options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The destinations the user set on the command line, whatever their value (a fresh ``parser`` whose
    defaults are all dropped parses ``argv`` again); for the rule on options that do not apply."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def config_from_args(args: argparse.Namespace, fields: tuple[str, ...] = ENGINE_FIELDS) -> Config:
    """Fill the Config from parsed options (only the fields a command defines)."""
    values = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    try:
        return Config(**values)
    except VidstyleError:
        raise
    except (TypeError, ValueError) as exc:
        raise VidstyleError(str(exc)) from None
