"""Command-line options and their translation into one Config."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NoReturn

from ..config import ORPHAN_POLICIES, PRESETS, Config
from ..errors import VidstyleError

if TYPE_CHECKING:
    from ..distributed.options import RayOptions


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _number(convert: Callable[[str], float], what: str, bound: str,
            ok: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type: ``convert`` the text, then require ``ok(value)``; one-line messages otherwise."""
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {bound}, got {text!r}")
        return value
    return parse


_non_negative_int = _number(int, "an integer", "a non-negative integer", lambda v: v >= 0)
_positive_float = _number(float, "a number", "a positive number", lambda v: v > 0)
_seconds = _number(float, "seconds", "a non-negative number of seconds", lambda v: v >= 0)


def add_engine_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Options of the style engine shared by every command (losses, weights, optimiser, device)."""
    d = defaults or Config()
    preset_help = "; ".join(f"{k}: content {','.join(p.content_layers)}, style {','.join(p.style_layers)}, "
                            f"alpha {p.content_weight:g}, beta {p.style_weight:g}"
                            + (f", photo weight {p.photo_weight:g}" if p.photo_weight else "") for k, p in PRESETS.items())
    g = parser.add_argument_group("style engine")
    g.add_argument("--preset", choices=sorted(PRESETS), default=d.preset,
                   help=f"loss layers and weights (default: %(default)s). {preset_help}")
    g.add_argument("--content-layers", type=_names, metavar="L[,L]", help="override the preset's content layers")
    g.add_argument("--style-layers", type=_names, metavar="L[,L]", help="override the preset's style layers")
    g.add_argument("--style-layer-weights", type=_floats, metavar="W[,W]",
                   help="w_l per style layer (default: 1/number of style layers)")
    g.add_argument("--content-weight", type=float, metavar="ALPHA", help="alpha of eq. 7 (default: the preset's)")
    g.add_argument("--style-weight", type=float, metavar="BETA", help="beta of eq. 7 (default: the preset's)")
    g.add_argument("--tv-weight", type=float, default=d.tv_weight, help="total-variation weight (default: %(default)s)")
    g.add_argument("--pooling", choices=("avg", "max"), default=d.pooling, help="VGG pooling (default: %(default)s)")
    g.add_argument("--weights", metavar="PATH", help="VGG-19 checkpoint (default: $VIDSTYLE_WEIGHTS, else "
                   "torchvision's, downloaded once into the torch hub cache)")
    g.add_argument("--weights-format", choices=("auto", "torchvision", "caffe"), default=d.weights_format,
                   help="input convention of the checkpoint (default: %(default)s: the checkpoint's "
                   "'input_convention' entry, else caffe if the file name contains 'caffe', else torchvision)")
    o = parser.add_argument_group("optimisation")
    o.add_argument("--optimizer", choices=("lbfgs", "adam"), default=d.optimizer, help="(default: %(default)s)")
    o.add_argument("--lr", type=float, default=d.lr, help="Adam step size in 0..1 RGB units (default: %(default)s)")
    o.add_argument("--iterations", type=_non_negative_int, default=d.iterations,
                   help="forward/backward passes per image (default: %(default)s)")
    o.add_argument("--init", default=d.init, metavar="content|noise|PATH",
                   help="start image (default: %(default)s)")
    o.add_argument("--seed", type=int, help="random seed; makes CPU runs reproducible (default: none)")
    o.add_argument("--size", type=_non_negative_int, default=d.size,
                   help="long side in pixels of the processed image and of the output; the style image is "
                   "scaled to the same long side (default: %(default)s)")
    p = parser.add_argument_group("photorealism and semantic masks (Luan et al. 2017)")
    p.add_argument("--photo-weight", type=float, metavar="LAMBDA",
                   help="weight of the matting-Laplacian photorealism term that keeps the output a locally affine "
                   "colour transform of the content (default: the preset's; 0 = off, photo preset "
                   f"{PRESETS['photo'].photo_weight:g})")
    p.add_argument("--content-mask", metavar="PATH", help="colour-coded label image of the content (one flat colour "
                   "per region); for videos and frame folders also a folder of per-frame masks in frame order")
    p.add_argument("--style-mask", metavar="PATH", help="colour-coded label image of the style; regions of the "
                   "same colour are matched, each with its own style statistics")
    p.add_argument("--orphan-labels", choices=ORPHAN_POLICIES, default=d.orphan_labels,
                   help="a content label missing from the style mask: error, or use the whole style's "
                   "statistics for it (default: %(default)s)")
    r = parser.add_argument_group("runtime")
    r.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default=d.device,
                   help="(default: %(default)s: cuda, then mps, then cpu)")
    r.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default=d.precision,
                   help="network precision (default: %(default)s = fp32, with TF32 convolutions on CUDA; "
                   "bf16/fp16 autocast is opt-in and experimental, see README)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    add_style_control_options(parser, d)


def add_style_control_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Style controls (issue 6; vidstyle/controls.py): colour preservation, blending, style scale, coarse to fine."""
    d = defaults or Config()
    s = parser.add_argument_group("style controls")
    s.add_argument("--preserve-colors", choices=("none", "luminance", "histogram"), default=d.preserve_colors,
                   help="keep the content's colours (Gatys et al. 2016): luminance = transfer the luminance only and "
                   "keep the content's chroma; histogram = match the style's colour mean and covariance to the "
                   "content's first (default: %(default)s)")
    s.add_argument("--style-weights", type=_floats, metavar="W[,W]",
                   help="blend weights of several comma-separated STYLE images, normalised to sum 1 (default: equal)")
    s.add_argument("--style-scale", type=_positive_float, default=d.style_scale, metavar="F",
                   help="resize the style image to F x the content's long side before its Grams are computed; "
                   "below 1 = larger brush strokes (default: %(default)s)")
    s.add_argument("--scales", type=_non_negative_int, default=d.scales, metavar="N",
                   help="coarse to fine: optimise at N resolutions doubling up to --size, each result the next one's "
                   "start; --iterations stays the budget in full-size passes (3/4 of it spent at full size) "
                   "(default: %(default)s)")


def style_paths(text: str) -> list[Path]:
    """STYLE: one image path, or a comma-separated list of them (a path that exists as given is never split)."""
    if Path(text).exists() or "," not in text:
        return [Path(text)]
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise VidstyleError(f"empty style image name in {text!r}")
    return [Path(part) for part in parts]


def add_video_options(parser: argparse.ArgumentParser, defaults: Config | None = None) -> None:
    """Options for videos and frame directories (issue 3)."""
    d = defaults or Config()
    v = parser.add_argument_group("video and frame directories")
    v.add_argument("--temporal", choices=("none", "warm", "flow"), default=d.temporal,
                   help="none: every frame starts from --init; warm: frame t starts from stylized frame t-1; "
                   "flow: from stylized frame t-1 warped along the optical flow, held to it by a temporal loss "
                   "outside occlusions, cold start at shot changes (default: %(default)s)")
    v.add_argument("--temporal-weight", type=float, default=d.temporal_weight, metavar="GAMMA",
                   help="weight of the temporal loss, mean of mask*(x - warped previous)^2 in 0..1 RGB, "
                   "with --temporal flow (default: %(default)g)")
    v.add_argument("--flow-quality", choices=("fast", "medium", "fine"), default=d.flow_quality,
                   help="DIS optical flow for --temporal flow: fast, medium or fine (default: %(default)s)")
    v.add_argument("--first-iterations", type=_non_negative_int, default=d.first_iterations, metavar="N",
                   help="iterations for the first frame; --iterations is used for the rest (default: twice "
                   "--iterations)")
    v.add_argument("--start", type=_seconds, default=d.start, metavar="SECONDS", help="first second to stylize")
    v.add_argument("--end", type=_seconds, default=d.end, metavar="SECONDS", help="stop at this second")
    v.add_argument("--max-frames", type=_non_negative_int, default=d.max_frames, metavar="N",
                   help="stylize at most N frames")
    v.add_argument("--fps", default=d.fps, metavar="RATE",
                   help="frame rate of a frame-directory INPUT, e.g. 24 or 30000/1001 (default: 25)")
    v.add_argument("--crf", type=_non_negative_int, default=d.crf,
                   help="video quality, 0 (lossless) .. 51 (worst); H.264, VP9 for .webm (default: %(default)s)")
    v.add_argument("--no-audio", dest="audio", action="store_false", help="drop the input's audio")
    v.add_argument("--work-dir", default=d.work_dir, metavar="DIR",
                   help="where finished frames are kept for resuming (default: OUTPUT.work next to OUTPUT)")
    v.add_argument("--keep-frames", action="store_true", help="keep the work directory after success")
    v.add_argument("--report", default=d.report, metavar="PATH",
                   help="write a JSON report: settings, device, per-frame iterations, losses and seconds")


def add_distributed_options(parser: argparse.ArgumentParser) -> None:
    """Options of a distributed run on a Ray cluster (vidstyle/distributed; needs vidstyle[ray])."""
    from ..distributed.options import RayOptions

    d = RayOptions()
    g = parser.add_argument_group("distributed (Ray; pip install 'vidstyle[ray]')")
    g.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="stylize a video as chunks on a Ray cluster: without ADDRESS a local Ray starts (all local "
                   "GPUs, else one worker per core); with one (e.g. auto, host:6379, ray://host:10001) it joins "
                   "that cluster, whose workers must read INPUT at the same path. Put --ray after the positional "
                   "arguments or write --ray=ADDRESS")
    g.add_argument("--chunk-frames", type=_non_negative_int, default=None, metavar="N",
                   help=f"frames per chunk; borders move to a nearby shot change (default: {d.chunk_frames})")
    g.add_argument("--overlap", type=_non_negative_int, default=None, metavar="K",
                   help=f"frames each chunk starts before its border, cross-faded with the previous chunk's "
                   f"(default: {d.overlap})")
    g.add_argument("--workers", type=_non_negative_int, default=None, metavar="N",
                   help="chunks computed at once (default: as many as the cluster's GPUs or cores allow)")
    g.add_argument("--gpus-per-task", type=float, default=None, metavar="F",
                   help=f"GPUs per chunk on a cluster with GPUs; 0.5 = two chunks share a GPU (default: {d.gpus_per_task:g})")
    g.add_argument("--cpus-per-task", type=_positive_float, default=None, metavar="F",
                   help=f"CPU cores (and torch threads) per chunk without GPUs (default: {d.cpus_per_task:g})")


DISTRIBUTED_FIELDS = ("chunk_frames", "overlap", "workers", "gpus_per_task", "cpus_per_task")


def ray_options_from_args(args: argparse.Namespace) -> "RayOptions | None":
    """The RayOptions of ``--ray`` (None without it); the chunk options without --ray are an error."""
    from ..distributed.options import RayOptions

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
                 "style_weight", "tv_weight", "pooling", "weights", "weights_format", "optimizer", "lr",
                 "iterations", "init", "seed", "size", "device", "precision", "quiet", "overwrite",
                 # style controls
                 "preserve_colors", "style_weights", "style_scale", "scales",
                 # photo
                 "photo_weight", "content_mask", "style_mask", "orphan_labels")


def config_from_args(args: argparse.Namespace, fields: tuple[str, ...] = ENGINE_FIELDS) -> Config:
    """Fill the Config from parsed options (only the fields a command defines)."""
    values = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    try:
        return Config(**values)
    except VidstyleError:
        raise
    except (TypeError, ValueError) as exc:
        raise VidstyleError(str(exc)) from None
