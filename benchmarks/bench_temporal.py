"""Temporal coherence: --temporal none vs warm vs flow on generated clips (pan, zoom, moving object).

    python benchmarks/bench_temporal.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth

For every clip and mode it runs the real video pipeline (stylize_video, frame directory in and out, lossless
PNG) and prints, for the frames after the first:
  * the warping error of the output with the clip's TRUE motion (exact flows of the generated pan / zoom /
    object, Ruder's occlusion mask computed from them; 0..1 RGB units): no flow estimator can flatter itself;
  * the input's own warping error with the same flows (the floor) and the output's error relative to it;
  * the same metric as `vidstyle metrics` computes it (DIS "fine" flow estimated on the input clip);
  * seconds per frame (flow estimation included), and the temporal overhead (flow, mask, warp) as a fraction of
    the same frames' optimisation time -- measured inside one run, so it is robust to a busy machine;
  * the mean style loss (how painted the frames are; lower = more stylized).
Every mode gets the same budgets. --temporal-weights and --flow-qualities add flow variants (the sweep that
chose the defaults).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import add_media_arguments  # noqa: E402

from samples.motion_clips import (  # noqa: E402
    CLIP_KINDS,
    motion_frames,
    read_frames,
    true_flows,
    write_frames,
)
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.metrics.warping import frame_warping_error, warping_error  # noqa: E402
from vidstyle.temporal import occlusion_mask  # noqa: E402



def true_warping_error(kind: str, frames: list[np.ndarray]) -> float:
    """Mean warping error of ``frames`` under the exact motion of clip ``kind``."""
    h, w = frames[0].shape[:2]
    errors = []
    for t in range(1, len(frames)):
        fwd, bwd = true_flows(kind, t, width=w, height=h)
        errors.append(frame_warping_error(frames[t - 1], frames[t], bwd, occlusion_mask(fwd, bwd)))
    return float(np.mean(errors))


def run_mode(kind: str, clip: Path, style: str, out: Path, base: Config, **changes: object) -> dict[str, float]:
    """One pipeline run; its warping errors (true motion, and as `vidstyle metrics` has it), cost and style."""
    report = stylize_video(clip, style, out, base.replace(**changes))
    rest = report["frames"][1:]
    outputs, inputs = read_frames(out), read_frames(clip)
    measured = warping_error(outputs, inputs, quality="fine")
    temporal = sum(f["temporal_seconds"] for f in rest)
    total = sum(f["seconds"] for f in rest)
    return {"warping_error": true_warping_error(kind, outputs), "input_error": true_warping_error(kind, inputs),
            "metrics_error": measured.mean, "metrics_input_error": measured.reference_mean,
            "seconds_per_frame": total / len(rest), "temporal_overhead": temporal / (total - temporal),
            "style_loss": float(np.mean([f["losses"]["style"] for f in rest])),
            "content_loss": float(np.mean([f["losses"]["content"] for f in rest])),
            "shot_changes": sum(bool(f.get("shot_change")) for f in rest), "device": report["device"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_arguments(parser)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--clips", default=",".join(CLIP_KINDS))
    parser.add_argument("--modes", default="none,warm,flow")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=128, help="clip width (height = 3/4 of it)")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--first-iterations", type=int, default=40)
    parser.add_argument("--temporal-weight", type=float, default=Config().resolved_temporal_weight())
    parser.add_argument("--flow-quality", default=Config().flow_quality)
    parser.add_argument("--temporal-weights", default="", help="extra flow runs, e.g. 1e10,1e12")
    parser.add_argument("--flow-qualities", default="", help="extra flow runs, e.g. fast,fine")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()

    base = Config(preset=args.preset, weights=args.weights, size=None, iterations=args.iterations,
                  first_iterations=args.first_iterations, device=args.device, quiet=True, seed=0)
    flow = {"temporal": "flow", "temporal_weight": args.temporal_weight, "flow_quality": args.flow_quality}
    # the flow options only where they apply (a Config refuses them with --temporal none or warm)
    variants: list[tuple[str, dict[str, object]]] = [(m, flow if m == "flow" else {"temporal": m})
                                                     for m in args.modes.split(",") if m]
    variants += [(f"flow g={w}", {**flow, "temporal_weight": float(w)}) for w in args.temporal_weights.split(",") if w]
    variants += [(f"flow {q}", {**flow, "flow_quality": q}) for q in args.flow_qualities.split(",") if q]
    scene, sprite = read_image(args.scene), read_image(args.sprite)
    print(f"{args.frames} frames of {args.size}x{args.size * 3 // 4}, preset {args.preset}, first frame "
          f"{args.first_iterations} iterations, then {args.iterations}; temporal weight {args.temporal_weight:g}, "
          f"flow quality {args.flow_quality}")
    print("| clip | mode | warping error (true motion) | x input's | `vidstyle metrics` | s/frame | temporal "
          "overhead | style loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.clips.split(","):
            clip = write_frames(Path(tmp) / kind, motion_frames(kind, scene, frames=args.frames, width=args.size,
                                                                height=args.size * 3 // 4, sprite=sprite))
            results = {}
            for name, changes in variants:
                out = Path(tmp) / f"{kind}_{name.replace(' ', '_')}"
                results[name] = res = run_mode(kind, clip, args.style, out, base, **changes)
                rows.append({"clip": kind, "mode": name, **res})
            first = next(iter(results.values()))
            floor = first["input_error"]
            def ratio(value: float, floor: float = floor) -> str:
                return f"{value / floor:.2f}" if floor > 1e-5 else "-"

            print(f"| {kind} | input itself | {floor:.5f} | {ratio(floor)} | {first['metrics_input_error']:.5f} "
                  "| | | |")
            for name, res in results.items():
                print(f"| {kind} | {name} | {res['warping_error']:.5f} | {ratio(res['warping_error'])} | "
                      f"{res['metrics_error']:.5f} | {res['seconds_per_frame']:.3f} | "
                      f"{100 * res['temporal_overhead']:.1f}% | {res['style_loss']:.4g} |", flush=True)
    print(f"device: {rows[0]['device']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
