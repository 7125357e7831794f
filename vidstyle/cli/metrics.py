"""`vidstyle metrics OUTPUT --reference INPUT`: temporal consistency (warping error) of a stylized video."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import VidstyleError
from ..temporal import WarpingError, warping_error
from ..vocab import FLOW_QUALITIES
from .options import Parser

# The metric uses the most accurate flow by default: the pipeline's own default is cheaper, and grading an
# output with the very flow it was optimised against would flatter it.
METRIC_FLOW_QUALITY = "fine"


def iter_clip(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Frames of a video file or a directory of frames, one at a time (RGB uint8)."""
    from ..io.frames import iter_frame_dir
    from ..io.video import is_video_path, iter_video_frames

    p = Path(path)
    if p.is_dir():
        return iter_frame_dir(p)
    if not p.exists():
        raise VidstyleError(f"not found: {p}")
    if not is_video_path(p):
        raise VidstyleError(f"{p.name!r} is neither a video file nor a directory of frames")
    return iter_video_frames(p)


def build_parser() -> Parser:
    parser = Parser(prog="vidstyle metrics", description=(
        "Temporal consistency of a stylized video: the warping error of Ruder et al. (2016), i.e. the mean over "
        "pixels and frames of mask * (out_t - warp(out_t-1))^2 in 0..1 RGB units, with optical flow and "
        "occlusion masks computed on the reference (the input video). The reference's own warping error is "
        "printed beside it as the floor. Shot changes in the reference are left out of the means."))
    parser.add_argument("output", metavar="OUTPUT_VIDEO", help="stylized video or directory of frames")
    parser.add_argument("--reference", required=True, metavar="INPUT_VIDEO",
                        help="the input it was made from (resized to OUTPUT's frame size)")
    parser.add_argument("--flow-quality", choices=FLOW_QUALITIES, default=METRIC_FLOW_QUALITY,
                        help="DIS optical-flow quality for the metric (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (with per-frame values)")
    return parser


def format_report(result: WarpingError) -> str:
    """Human-readable table: the means, the ratio to the floor, shot changes and per-frame values."""
    ratio = f"{result.mean / result.reference_mean:.2f}x the input's" if result.reference_mean > 0 else "n/a"
    lines = [f"frames               {result.frames}",
             f"warping error        {result.mean:.6f}",
             f"input's own (floor)  {result.reference_mean:.6f}",
             f"ratio                {ratio}"]
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
    result = warping_error(iter_clip(args.output), iter_clip(args.reference), quality=args.flow_quality)
    text = json.dumps(result.as_dict(), indent=2) if args.json else format_report(result)
    sys.stdout.write(text + "\n")
    return 0
