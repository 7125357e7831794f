"""Temporal stability on camera-like footage: warping error and the look over time, per clip and mode.

    python benchmarks/bench_stability.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth

Generates the realistic clips of tests/helpers/realistic_clips.py (a still camera with sensor noise and a
moving subject, a hand-held shake, a slow pan; 1280x720 with sensor noise, phone-like H.264) into a temp
folder, stylizes each with the real pipeline (fast preset, Starry Night, --size 160, 8 passes a frame and 40
for frame 0 by default) into an .mp4, decodes what was written and prints per clip and temporal mode:
  * the warping error of the output relative to the input's own, as `vidstyle metrics` measures it (DIS
    "fine" flow and Ruder's masks from the input at the output's size) -- acceptance: at most 2x;
  * the share of frame 0's style strength and content fidelity that frame 39 keeps (fixed VGG layers,
    vidstyle/metrics/look.py) -- acceptance: at least 0.8 each; frame 0's own figures beside them;
  * seconds per frame (frames after the first, flow included) -- acceptance: at most +10% over flow.
--candidates adds flow runs with prototype fixes (benchmarks/stability_candidates.py), e.g.
bicubic,snap,longterm,bicubic+snap; --temporal-weights adds flow runs with other gammas.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import add_media_arguments  # noqa: E402

from stability_candidates import candidate  # noqa: E402
from tests.helpers.realistic_clips import REALISTIC_KINDS, make_realistic_clip  # noqa: E402
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.io.video_files import iter_video_frames  # noqa: E402
from vidstyle.metrics.warping import warping_error  # noqa: E402
from vidstyle.metrics.look import LookMeter, LookOverTime  # noqa: E402

LOOK_FRAME = 39  # the "frame 39" (the last frame when a clip is shorter)


def measure(frames: Iterable[np.ndarray], clip: Path, size: int, meter: LookMeter) -> dict[str, float]:
    """Warping error ratio and look of the written output ``frames``, as `vidstyle metrics --style` has them."""
    look = LookOverTime()
    err = warping_error(frames, iter_video_frames(clip, size=size), quality="fine",
                        on_frame=lambda o, r: look.frames.append(meter.measure(o, r)))
    late = min(LOOK_FRAME, len(look.frames) - 1)
    style_kept, content_kept = look.kept(late)
    first = look.frames[0]
    return {"warping_error": err.mean, "input_error": err.reference_mean, "ratio": err.mean / err.reference_mean,
            "style_strength_0": first.style_strength, "content_fidelity_0": first.content_fidelity,
            "style_kept": style_kept, "content_kept": content_kept, "late_frame": late,
            "shot_changes": len(err.shot_changes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_arguments(parser)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--clips", default=",".join(REALISTIC_KINDS))
    parser.add_argument("--modes", default="none,warm,flow")
    parser.add_argument("--candidates", default="", help="extra flow runs with prototype fixes, e.g. bicubic,snap")
    parser.add_argument("--temporal-weights", default="", help="extra flow runs, e.g. 1e12,3e12")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--capture", default="1280x720", help="size the clips are recorded at")
    parser.add_argument("--size", type=int, default=160, help="processing size (long side)")
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--first-iterations", type=int, default=40)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    parser.add_argument("--keep", help="keep clips and outputs in this folder")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    base = Config(preset=args.preset, weights=args.weights, size=args.size, iterations=args.iterations,
                  first_iterations=args.first_iterations, device=args.device, quiet=True, seed=0)
    variants: list[tuple[str, dict[str, object], str]] = [(m, {"temporal": m}, "") for m in args.modes.split(",") if m]
    variants += [(f"flow {c}", {"temporal": "flow"}, c) for c in args.candidates.split(",") if c]
    variants += [(f"flow g={w}", {"temporal": "flow", "temporal_weight": float(w)}, "")
                 for w in args.temporal_weights.split(",") if w]
    capture_w, capture_h = (int(v) for v in args.capture.split("x"))
    scene, sprite = read_image(args.scene), read_image(args.sprite)
    meter = LookMeter(read_image(args.style), weights=args.weights)
    print(f"{args.frames} frames recorded at {args.capture} (sensor noise, libx264 crf 26), stylized at {args.size} "
          f"px, preset {args.preset}, {args.first_iterations} passes for frame 0 then {args.iterations}; "
          f"temporal weight {base.resolved_temporal_weight():g}, flow {base.flow_quality}; torch threads "
          f"{torch.get_num_threads()}, {platform.processor() or platform.machine()}")
    print(f"| clip | mode | warping error x input's | style kept @{LOOK_FRAME} | content kept @{LOOK_FRAME} | "
          "style strength @0 | content fidelity @0 | s/frame |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        for kind in args.clips.split(","):
            clip = make_realistic_clip(kind, root / f"{kind}.mp4", scene, frames=args.frames, width=capture_w,
                                       height=capture_h, sprite=sprite)
            for name, changes, cand in variants:
                out = root / f"{kind}_{name.replace(' ', '_').replace('=', '')}.mp4"
                started = time.perf_counter()
                with candidate(cand):
                    report = stylize_video(clip, args.style, out, base.replace(overwrite=True, **changes))
                wall = time.perf_counter() - started
                rest = report["frames"][1:]
                res = {"clip": kind, "mode": name, **measure(iter_video_frames(out), clip, args.size, meter),
                       "seconds_per_frame": float(np.mean([f["seconds"] for f in rest])), "wall_seconds": wall,
                       "device": report["device"]}
                rows.append(res)
                print(f"| {kind} | {name} | {res['ratio']:.2f} | {res['style_kept']:.2f} | {res['content_kept']:.2f} "
                      f"| {res['style_strength_0']:.1f} | {res['content_fidelity_0']:.2f} | "
                      f"{res['seconds_per_frame']:.3f} |", flush=True)
    print(f"device: {rows[0]['device']}; input's own warping error: "
          + ", ".join(f"{r['clip']} {r['input_error']:.6f}" for r in rows if r["mode"] == rows[0]["mode"]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
