"""`vidstyle metrics OUTPUT --reference INPUT [--style STYLE]`: temporal consistency (warping error) of a
stylized video and, with --style, its look over time (style strength and content fidelity per frame)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from ..config import check_path_option
from ..errors import VidstyleError
from ..metrics.warping import WarpingError, warping_error
from ..metrics.look import LOOK_CONTENT_LAYER, LOOK_STYLE_LAYERS, SUMMARY_TAIL, LookOverTime
from ..vocab import FLOW_QUALITIES
from .options import Parser, _integer, _real

# The metric uses the most accurate flow by default: the pipeline's own default is cheaper, and grading an
# output with the very flow it was optimised against would flatter it.
METRIC_FLOW_QUALITY = "fine"


def iter_clip(path: str | os.PathLike, *, start: float | None = None, end: float | None = None,
              max_frames: int | None = None, fps: str | None = None) -> Iterator[np.ndarray]:
    """Frames of a video file or a directory of frames, one at a time (RGB uint8), optionally the part
    [start, end) seconds / at most ``max_frames`` (as a run's --start/--end/--max-frames chose it)."""
    from ..config import Config
    from ..io.frames import iter_frame_dir
    from ..io.video_files import frame_range, is_video_path, iter_video_frames

    window = Config(fps=fps, start=start, end=end, max_frames=max_frames)  # validated by the one rule set
    p = Path(path)
    if p.is_dir():
        rate = window.frame_rate()
        first, stop = frame_range(rate, start, end, max_frames)
        return iter_frame_dir(p, start=first, max_frames=None if stop is None else stop - first)
    if not p.exists():
        raise VidstyleError(f"not found: {p}")
    if not is_video_path(p):
        raise VidstyleError(f"{p.name!r} is neither a video file nor a directory of frames")
    return iter_video_frames(p, start=start, end=end, max_frames=max_frames)


def build_parser() -> Parser:
    parser = Parser(prog="vidstyle metrics", description=(
        "Temporal consistency of a stylized video: the warping error of Ruder et al. (2016), i.e. the mean over "
        "pixels and frames of mask * (out_t - warp(out_t-1))^2 in 0..1 RGB units, with optical flow and "
        "occlusion masks computed on the reference (the input video). The reference's own warping error is "
        "printed beside it as the floor. Shot changes in the reference are left out of the means."))
    parser.add_argument("output", metavar="OUTPUT_VIDEO", help="stylized video or directory of frames")
    parser.add_argument("--reference", required=True, metavar="INPUT_VIDEO",
                        help="the input it was made from (resized to OUTPUT's frame size); it may be longer than "
                        "OUTPUT (a run with --max-frames or --end): frames past OUTPUT's last are left out")
    parser.add_argument("--start", type=_real, metavar="SECONDS",
                        help="the --start the run was given: OUTPUT's frame 0 is the reference's frame at this time")
    parser.add_argument("--end", type=_real, metavar="SECONDS", help="the run's --end (reference ends here)")
    parser.add_argument("--max-frames", type=_integer, metavar="N", help="the run's --max-frames")
    parser.add_argument("--fps", metavar="RATE", help="frame rate of a frame-directory reference, for --start "
                        "and --end (default: 25)")
    parser.add_argument("--style", metavar="STYLE_IMAGE", help="also report the look over time: per frame, the "
                        "style strength and content fidelity under fixed VGG layers (style "
                        f"{','.join(LOOK_STYLE_LAYERS)}, content {LOOK_CONTENT_LAYER}) kept relative to the first "
                        f"frame of each shot, and per shot the mean kept over its last {SUMMARY_TAIL} frames and the worst")
    parser.add_argument("--weights", metavar="PATH", help="VGG-19 checkpoint for --style (default: "
                        "$VIDSTYLE_WEIGHTS, else torchvision's)")
    parser.add_argument("--weights-format", choices=("auto", "torchvision", "caffe"), default="auto",
                        help="input convention of the checkpoint (default: %(default)s)")
    parser.add_argument("--flow-quality", choices=FLOW_QUALITIES, default=METRIC_FLOW_QUALITY,
                        help="DIS optical-flow quality for the metric (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (with per-frame values)")
    return parser


def format_look(look: LookOverTime) -> str:
    """Per-frame style strength and content fidelity, each relative to the first frame of its shot (the drift),
    then one summary line per shot: mean kept over its last frames and the worst frame."""
    lines = ["look over time (style strength = photo's style distance / frame's; content fidelity = painting's "
             "content distance / frame's; kept = share of the first frame of the shot's)",
             "frame  style strength  kept   content fidelity  kept"]
    starts = set(look.shot_starts())
    for i, (f, (s_kept, c_kept)) in enumerate(zip(look.frames, look.drift(), strict=True)):
        mark = "  new shot" if i in starts and i > 0 else ""
        lines.append(f"{i:5d}  {f.style_strength:14.2f}  {s_kept:5.2f}  {f.content_fidelity:16.2f}  {c_kept:5.2f}"
                     f"{mark}")
    for n, shot in enumerate(look.shots(), start=1):
        lines.append(f"shot {n} (frames {shot.start}-{shot.stop - 1}): style kept {shot.style_mean:.2f} mean of the "
                     f"last {shot.tail}, {shot.style_worst:.2f} worst; content kept {shot.content_mean:.2f} mean, "
                     f"{shot.content_worst:.2f} worst")
    return "\n".join(lines)


def format_report(result: WarpingError) -> str:
    """Human-readable table: the means, the ratio to the floor, shot changes and per-frame values."""
    ratio = f"{result.mean / result.reference_mean:.2f}x the input's" if result.reference_mean > 0 else "n/a"
    lines = [f"frames               {result.frames}",
             f"warping error        {result.mean:.6f}",
             f"input's own (floor)  {result.reference_mean:.6f}",
             f"ratio                {ratio}"]
    if result.reference_longer:
        lines.append(f"reference            longer than OUTPUT; its first {result.frames} frames compared")
    if result.shot_changes:
        lines.append(f"shot changes         {', '.join(map(str, result.shot_changes))} (left out of the means)")
    lines.append("frame  warping error  input's own")
    for i, (err, ref) in enumerate(zip(result.per_frame, result.reference_per_frame, strict=True), start=1):
        mark = "  shot change" if i in result.shot_changes else ""
        lines.append(f"{i:5d}  {err:13.6f}  {ref:11.6f}{mark}")
    return "\n".join(lines)


def run(argv: list[str]) -> int:
    """Entry of the subcommand; prints the report on stdout."""
    args = build_parser().parse_args(argv)
    for option, value in (("OUTPUT", args.output), ("--reference", args.reference), ("--style", args.style),
                          ("--weights", args.weights)):
        check_path_option(option, value)
    # options that mean nothing here are refused, as for the main command (vidstyle/scopes.py)
    if args.fps is not None and not os.path.isdir(args.reference):
        raise VidstyleError("--fps applies only to a frame-folder --reference (a video keeps its own rate)")
    if not args.style and (args.weights is not None or args.weights_format != "auto"):
        raise VidstyleError(f"--weights{'-format' if args.weights is None else ''} applies only with --style "
                            "(the look over time)")
    reference = iter_clip(args.reference, start=args.start, end=args.end, max_frames=args.max_frames, fps=args.fps)
    output = iter_clip(args.output)
    look: LookOverTime | None = None
    if args.style:
        from ..io.images import read_image
        from ..metrics.look import LookMeter, measure_clip

        meter = LookMeter(read_image(args.style), weights=args.weights, weights_format=args.weights_format)
        result, look = measure_clip(output, reference, meter, quality=args.flow_quality, longer_reference=True)
    else:
        result = warping_error(output, reference, quality=args.flow_quality, longer_reference=True)
    if args.json:
        data = result.as_dict()
        if look is not None:
            data["look"] = look.as_dict()
        text = json.dumps(data, indent=2)
    else:
        text = format_report(result) + ("\n" + format_look(look) if look is not None else "")
    sys.stdout.write(text + "\n")
    return 0
