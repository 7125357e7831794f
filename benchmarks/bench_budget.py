"""The stopping rule against fixed budgets: passes, seconds and the delivered look of both, per case.

    python benchmarks/bench_budget.py --threads 1                                  # images: 128 and 256 px
    python benchmarks/bench_budget.py --threads 1 --sizes 512 --styles starry_night --optimizers lbfgs
    python benchmarks/bench_budget.py --threads 1 --only video --video 160:100:200 --frames 40

Images: Tübingen with each shared painting (``--styles``), at each ``--sizes``, with each optimiser and
preset, run twice through ``stylize_frame`` as a user's run is: with ``--fixed-budget`` (every pass of
``--iterations``) and with the default stopping rule (or ``--tolerances``). The look of the written 8-bit image
is measured under a fixed network (vidstyle/metrics/look.py: style strength, content fidelity); the table
gives each figure of the rule's image as a share of the fixed budget's, and the passes and seconds spent.

Video: the shared real clips (``--clips``, the first ``--frames`` frames: bikes has a cut at frame 30) with
``--temporal flow`` at ``SIZE:PASSES:FIRST``, fixed budgets against the rule, measured as ``vidstyle metrics
--style`` measures the written .mp4 (bench_stability.measure): warping error, the look kept per shot, and
passes per frame. docs/stopping.md has the tables.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_stability import REAL_CLIPS, measure  # noqa: E402
from common import MEDIA, SHARED, WEIGHTS  # noqa: E402

from vidstyle import Config, stylize_frame, stylize_video  # noqa: E402
from vidstyle.engine.convergence import TOLERANCE, WINDOW  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402
from vidstyle.metrics.look import LookMeter  # noqa: E402

STYLES = ("starry_night", "the_scream", "shipwreck", "woman-with-hat-matisse")


def image_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    photo = read_image(MEDIA / "tubingen.jpg")
    print("| style | size | optimiser | preset | tolerance | passes (fixed) | seconds (fixed) | style strength "
          "rule / fixed | content fidelity rule / fixed | look kept (style, content) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        content = resize_long_side(photo, size)
        for name in args.styles:
            style = read_image(MEDIA / f"{name}.jpg")
            meter = LookMeter(style, weights=args.weights)
            for optimizer in args.optimizers:
                for preset in args.presets:
                    base = Config(preset=preset, weights=args.weights, device=args.device, size=size, seed=0,
                                  quiet=True, optimizer=optimizer, iterations=args.iterations)
                    fixed, fixed_s = _timed(lambda: stylize_frame(content, style, base.replace(fixed_budget=True)))
                    fixed_look = meter.measure(fixed.image, content)
                    for tolerance in args.tolerances:
                        rule, rule_s = _timed(lambda: stylize_frame(content, style,
                                                                    base.replace(stop_tolerance=tolerance)))
                        look = meter.measure(rule.image, content)
                        row = dict(kind="image", style=name, size=size, optimizer=optimizer, preset=preset,
                                   tolerance=tolerance, passes=rule.iterations, fixed_passes=fixed.iterations,
                                   stopped=rule.stopped, seconds=rule_s, fixed_seconds=fixed_s,
                                   style_strength=look.style_strength, fixed_style=fixed_look.style_strength,
                                   content_fidelity=look.content_fidelity,
                                   fixed_content=fixed_look.content_fidelity,
                                   total=rule.losses["total"], fixed_total=fixed.losses["total"])
                        rows.append(row)
                        print(f"| {name} | {size} | {optimizer} | {preset} | {tolerance:g} | {rule.iterations} "
                              f"({fixed.iterations}) | {rule_s:.1f} ({fixed_s:.1f}) | "
                              f"{look.style_strength:.2f} / {fixed_look.style_strength:.2f} | "
                              f"{look.content_fidelity:.2f} / {fixed_look.content_fidelity:.2f} | "
                              f"{look.style_strength / fixed_look.style_strength:.3f}, "
                              f"{look.content_fidelity / fixed_look.content_fidelity:.3f} |", flush=True)
    summary(rows)
    return rows


def summary(rows: list[dict[str, object]]) -> None:
    """Per tolerance: mean passes as a share of the fixed budget's, mean and worst look kept."""
    for tolerance in sorted({r["tolerance"] for r in rows}):
        mine = [r for r in rows if r["tolerance"] == tolerance]
        share = np.mean([r["passes"] / r["fixed_passes"] for r in mine])
        style = [r["style_strength"] / r["fixed_style"] for r in mine]
        content = [r["content_fidelity"] / r["fixed_content"] for r in mine]
        time_share = np.mean([r["seconds"] / r["fixed_seconds"] for r in mine])
        print(f"tolerance {tolerance:g} over {WINDOW} passes, {len(mine)} cases: passes {share:.2f} x the fixed "
              f"budget's (seconds {time_share:.2f} x); style kept mean {np.mean(style):.3f} worst {min(style):.3f}; "
              f"content kept mean {np.mean(content):.3f} worst {min(content):.3f}")


def video_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    meter = LookMeter(read_image(MEDIA / "starry_night.jpg"), weights=args.weights)
    print("| clip | size, passes (first) | budget | shot | warping error x input's | style kept mean / worst | "
          "content kept mean / worst | passes/frame | s/frame |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for clip_name in args.clips:
            clip = SHARED / "media" / REAL_CLIPS[clip_name][0]
            for setting in args.video:
                size, passes, first = (int(v) for v in setting.split(":"))
                for label, changes in (("fixed", {"fixed_budget": True}), ("rule", {})):
                    cfg = Config(preset="fast", weights=args.weights, device=args.device, size=size,
                                 iterations=passes, first_iterations=first, seed=0, quiet=True, overwrite=True,
                                 max_frames=args.frames, audio=False, optimizer=args.optimizers[0], **changes)
                    out = Path(tmp) / f"{clip_name}_{size}_{label}.mp4"
                    report = stylize_video(clip, MEDIA / "starry_night.jpg", out, cfg)
                    rest = report["frames"][1:]
                    res = {"kind": "video", "clip": clip_name, "size": size, "passes": passes, "first": first,
                           "budget": label, **measure(out, clip, args.frames, meter),
                           "passes_per_frame": float(np.mean([f["iterations"] for f in rest])),
                           "seconds_per_frame": float(np.mean([f["seconds"] for f in rest])),
                           "converged_frames": report["totals"]["converged_frames"]}
                    rows.append(res)
                    for shot in res["shots"]:
                        print(f"| {clip_name} | {size} px, {passes} ({first}) | {label} | {shot['start']}-"
                              f"{shot['stop'] - 1} | {shot['warping_ratio']:.3f} | {shot['style_kept_mean']:.3f} / "
                              f"{shot['style_kept_worst']:.3f} | {shot['content_kept_mean']:.3f} / "
                              f"{shot['content_kept_worst']:.3f} | {res['passes_per_frame']:.1f} | "
                              f"{res['seconds_per_frame']:.2f} |", flush=True)
    return rows


def _timed(run):  # noqa: ANN001, ANN202 - a result and its wall seconds
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=str(WEIGHTS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=["image", "video"], default=["image", "video"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 256])
    parser.add_argument("--styles", nargs="+", default=list(STYLES), choices=STYLES)
    parser.add_argument("--optimizers", nargs="+", default=["lbfgs", "adam"], choices=["lbfgs", "adam"])
    parser.add_argument("--presets", nargs="+", default=["fast"])
    parser.add_argument("--iterations", type=int, default=300, help="the cap (default: the product's 300)")
    parser.add_argument("--tolerances", nargs="+", type=float, default=[TOLERANCE])
    parser.add_argument("--clips", nargs="+", default=list(REAL_CLIPS), choices=list(REAL_CLIPS))
    parser.add_argument("--video", nargs="+", default=["160:100:200"], help="SIZE:PASSES:FIRST of the video runs")
    parser.add_argument("--frames", type=int, default=40, help="frames of each clip (bikes: a cut at 30)")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, device "
          f"{args.device}")
    rows = (image_rows(args) if "image" in args.only else []) + (video_rows(args) if "video" in args.only else [])
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
