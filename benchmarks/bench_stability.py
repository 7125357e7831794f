"""Temporal stability on real footage: warping error, the look kept per shot, seconds and passes per frame.

    python benchmarks/bench_stability.py --threads 1

Stylizes real clips with the real pipeline (fast preset, Starry Night, ``--temporal flow`` by default) into
.mp4 files and measures what was written exactly as ``vidstyle metrics --style`` does (the video decoded with
interpolated colour, DIS "fine" flow and Ruder's masks from the input at the output's size):
  * the warping error of the output relative to the input's own, shot changes left out -- acceptance: <= 2x;
  * per shot, the style strength and content fidelity kept relative to the shot's first frame (fixed VGG
    layers, vidstyle/metrics/look.py): mean of the shot's last 10 frames (>= 0.85) and worst frame (>= 0.8);
  * the first frame of each shot's own style strength and content fidelity: "kept" is relative to it, so a
    first frame that is less painted or less faithful (Adam's 40 passes against L-BFGS's) flatters "kept";
  * seconds and optimiser passes per frame (every frame after the first; a cut's frame included).

Clips: ``bikes`` = ../shared/media/bikes.mp4 frames 0-75 (hand-held street footage, a cut at frame 30),
``bunny`` = ../shared/media/bigbuckbunny.mp4 frames 0-59 (animation, a character walking toward the camera);
the generated camera-like clips of samples/realistic_clips.py (``still``, ``handheld``, ``pan``,
1280x720, 40 frames) may be named too. Settings ``SIZE:PASSES:FIRST``: the acceptance's are 160:8:40 and
256:20:60. ``--frames N`` cuts every clip to N frames for a quick look. docs/real-footage.md has the tables.
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

from common import SHARED, add_media_arguments  # noqa: E402

from samples.realistic_clips import REALISTIC_KINDS, make_realistic_clip  # noqa: E402
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.frames import iter_frame_dir  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.io.video_files import iter_video_frames  # noqa: E402
from vidstyle.metrics.look import LookMeter, measure_clip  # noqa: E402

# name -> (file in ../shared/media, frames used: the acceptance ranges)
REAL_CLIPS = {"bikes": ("bikes.mp4", 76), "bunny": ("bigbuckbunny.mp4", 60)}
METRIC_FLOW = "fine"  # `vidstyle metrics`' default


def clip_path(name: str, root: Path, args: argparse.Namespace) -> tuple[Path, int]:
    """(video, frames to use) of clip ``name``: a shared real clip, or a generated camera-like one."""
    if name in REAL_CLIPS:
        file, frames = REAL_CLIPS[name]
        return SHARED / "media" / file, min(frames, args.frames or frames)
    if name in REALISTIC_KINDS:
        frames = args.frames or 40
        path = make_realistic_clip(name, root / f"{name}.mp4", read_image(args.scene), frames=frames,
                                   sprite=read_image(args.sprite))
        return path, frames
    raise SystemExit(f"unknown clip {name!r}; choose from {', '.join([*REAL_CLIPS, *REALISTIC_KINDS])}")


def measure(output: Path, clip: Path, frames: int, meter: LookMeter) -> dict[str, object]:
    """`vidstyle metrics OUTPUT --reference CLIP --max-frames N --style STYLE`'s figures (OUTPUT: a video or a
    folder of frames)."""
    written = iter_frame_dir(output) if output.is_dir() else iter_video_frames(output)
    err, look = measure_clip(written, iter_video_frames(clip, max_frames=frames), meter, quality=METRIC_FLOW)
    shots = []
    for shot in look.shots():
        inside = range(shot.start + 1, shot.stop)  # per_frame[i - 1] belongs to frame i; a shot's first is left out
        out = np.mean([err.per_frame[i - 1] for i in inside]) if inside else 0.0
        ref = np.mean([err.reference_per_frame[i - 1] for i in inside]) if inside else 0.0
        shots.append({**shot.as_dict(), "warping_ratio": float(out / ref) if ref > 0 else None,
                      "style_strength_first": look.frames[shot.start].style_strength,
                      "content_fidelity_first": look.frames[shot.start].content_fidelity})
    return {"warping_error": err.mean, "input_error": err.reference_mean,
            "ratio": err.mean / err.reference_mean if err.reference_mean > 0 else None,
            "shot_changes": err.shot_changes, "shots": shots, "kept_per_frame": look.drift()}


def table_row(res: dict, shot: dict) -> str:
    """One markdown row: a shot of one run."""
    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"
    return (f"| {res['clip']} | {res['size']} px, {res['passes']} ({res['first_passes']}) | {res['mode']} | "
            f"{shot['start']}-{shot['stop'] - 1} | {ratio(shot['warping_ratio'])} ({ratio(res['ratio'])}) | "
            f"{shot['style_kept_mean']:.2f} / {shot['style_kept_worst']:.2f} | {shot['content_kept_mean']:.2f} / "
            f"{shot['content_kept_worst']:.2f} | {shot['style_strength_first']:.2f} / "
            f"{shot['content_fidelity_first']:.2f} | {res['seconds_per_frame']:.3f} | {res['passes_per_frame']:.1f} |")


def arguments(description: str = __doc__.splitlines()[0]) -> argparse.ArgumentParser:
    """This benchmark's options (bench_drift.py adds its own to them)."""
    parser = argparse.ArgumentParser(description=description)
    add_media_arguments(parser)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--clips", default=",".join(REAL_CLIPS))
    parser.add_argument("--settings", default="160:8:40,256:20:60", help="SIZE:PASSES:FIRST_PASSES, comma-separated")
    parser.add_argument("--modes", default="flow", help="--temporal modes, e.g. none,warm,flow")
    parser.add_argument("--temporal-weights", default="", help="extra flow runs with these gammas, e.g. 200,300")
    parser.add_argument("--frames", type=int, default=0, help="use at most N frames of each clip (exploring)")
    parser.add_argument("--optimizer", default="lbfgs", help="--optimizer of every run (lbfgs | adam)")
    parser.add_argument("--lr", type=float, default=0.02, help="--lr (Adam's step size)")
    parser.add_argument("--crf", type=int, default=18, help="--crf of the written .mp4 (x264 quality)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    parser.add_argument("--keep", help="keep outputs (and generated clips) in this folder")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--per-frame", action="store_true",
                        help="also print every frame's style and content kept (relative to its shot's first)")
    return parser


def run(args: argparse.Namespace, meter: LookMeter | None = None) -> None:
    """Stylize and measure every clip, setting and mode of ``args``; print the table (and write the JSON)."""
    if args.threads:
        torch.set_num_threads(args.threads)

    variants = [(m, {"temporal": m}) for m in args.modes.split(",") if m]
    variants += [(f"flow g={w}", {"temporal": "flow", "temporal_weight": float(w)})
                 for w in args.temporal_weights.split(",") if w]
    settings = [tuple(int(v) for v in s.split(":")) for s in args.settings.split(",") if s]
    meter = meter or LookMeter(read_image(args.style), weights=args.weights)
    print(f"preset {args.preset}, style {Path(args.style).name}, torch threads {torch.get_num_threads()}, "
          f"{platform.processor() or platform.machine()}; kept = share of the shot's first frame's figure, "
          "mean of the shot's last 10 frames / worst frame; warping error x the input's own for the shot "
          "(and the whole clip, cuts left out); the shot's first frame's own style strength and content fidelity "
          "(what kept is relative to: a weaker first frame makes kept look better)")
    print("| clip | size, passes | mode | shot | warping error x input's (clip) | style kept mean / worst | "
          "content kept mean / worst | first frame's style / content | s/frame | passes/frame |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        for name in args.clips.split(","):
            clip, frames = clip_path(name, root, args)
            for size, passes, first in settings:
                base = Config(preset=args.preset, weights=args.weights, size=size, iterations=passes,
                              first_iterations=first, device=args.device, quiet=True, seed=0, overwrite=True,
                              max_frames=frames, audio=False, optimizer=args.optimizer, lr=args.lr,
                              crf=args.crf)
                for label, changes in variants:
                    out = root / f"{name}_{size}_{label.replace(' ', '_').replace('=', '')}.mp4"
                    started = time.perf_counter()
                    report = stylize_video(clip, args.style, out, base.replace(**changes))
                    wall = time.perf_counter() - started
                    rest = report["frames"][1:]
                    res = {"clip": name, "size": size, "passes": passes, "first_passes": first, "mode": label,
                           "frames": frames, **measure(out, clip, frames, meter),
                           "seconds_per_frame": float(np.mean([f["seconds"] for f in rest])),
                           "passes_per_frame": float(np.mean([f["iterations"] for f in rest])),
                           "wall_seconds": wall, "device": report["device"]}
                    rows.append(res)
                    for shot in res["shots"]:
                        print(table_row(res, shot), flush=True)
                    if args.per_frame:
                        print(f"{name} {size} px {label}, frame: style kept / content kept: " + ", ".join(
                            f"{i} {st:.2f}/{ct:.2f}" for i, (st, ct) in enumerate(res["kept_per_frame"])), flush=True)
    print(f"device: {rows[0]['device']}; input's own warping error: "
          + ", ".join(f"{r['clip']} {r['size']} px {r['input_error']:.6f}" for r in rows
                      if r["mode"] == rows[0]["mode"]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def main() -> None:
    run(arguments().parse_args())


if __name__ == "__main__":
    main()
