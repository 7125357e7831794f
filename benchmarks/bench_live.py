"""Live mode speed: display fps, stylization updates per second and latency with a file camera (headless).

A clip panning over the Tuebingen photo (30 fps, generated with cv2.VideoWriter) plays as the camera; the
session runs exactly as ``vidstyle live --no-window`` does, with the live defaults unless overridden.

    python benchmarks/bench_live.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth
    python benchmarks/bench_live.py --sizes 160 --iterations 1,2,3 --threads 1,2   # tuning
    python benchmarks/bench_live.py --clips bikes-30,bikes-76,bunny --external box.mp4:0-150 --code OLD,.

``--clips`` measures the look instead: real footage played as the camera, the recording against an offline
flow run of the same clip at the same size (benchmarks/live_look.py says how); ``--code`` runs the live
sessions of several checkouts one after the other in the same run (ratios on one machine).

Targets (issue 5) on a 2-core CPU with the fast preset at 160 px: display >= 24 fps, >= 2 updates/s.
Figures depend on what else the machine runs: the load average is printed with every row.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.live import run_live  # noqa: E402
from vidstyle.live.config import LiveConfig, live_engine_config  # noqa: E402
from live_look import (compare, decoded, parse_segment, prepared, run_live_child,  # noqa: E402
                       shared_segments)

MEDIA = Path(os.environ.get("VIDSTYLE_SHARED", ROOT.parent / "shared")) / "media"
WEIGHTS = MEDIA.parent / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


def make_pan_clip(path: Path, photo: np.ndarray, seconds: float, fps: int = 30, width: int = 480) -> Path:
    """A clip of ``seconds`` panning slowly (2 px per frame) and zooming a little over ``photo``."""
    h, w = photo.shape[:2]
    height = width * 3 // 4
    scale = (width + 200) / w
    big = cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    frames = round(seconds * fps)
    for i in range(frames):
        x = int(100 + 90 * np.sin(i / frames * 2 * np.pi))  # back and forth
        y = min(big.shape[0] - height, max(0, (big.shape[0] - height) // 2 + int(20 * np.sin(i / 40))))
        writer.write(cv2.cvtColor(np.ascontiguousarray(big[y:y + height, x:x + width]), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=os.environ.get("VIDSTYLE_WEIGHTS") or (str(WEIGHTS) if WEIGHTS.is_file() else None))
    ap.add_argument("--sizes", default="160,256")
    ap.add_argument("--iterations", default="", help="passes per update, comma-separated (default: live default)")
    ap.add_argument("--threads", default="", help="worker torch threads, comma-separated (default: live mode's, all cores)")
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--seconds", type=float, default=12.0, help="clip length = run length")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--record", action="store_true", help="also record an mp4 (encoding costs display time)")
    ap.add_argument("--clips", default="", help="real-clip look rows: " + ", ".join(shared_segments(MEDIA)))
    ap.add_argument("--external", nargs="+", action="extend", default=[], help="more real footage: PATH or PATH:START-STOP")
    ap.add_argument("--code", default=str(ROOT), help="checkouts whose live mode is measured, comma-separated")
    ap.add_argument("--cache", help="keep cut clips and offline runs here (reused by later runs)")
    ap.add_argument("--repeat", type=int, default=1, help="live sessions per clip and checkout")
    ap.add_argument("--json", help="write the real-clip rows (with per-frame figures) to this file")
    args = ap.parse_args()
    if args.clips or args.external:
        return clip_rows(args)

    photo = read_image(MEDIA / "tubingen.jpg")
    style = read_image(MEDIA / "starry_night.jpg")
    iterations = [int(v) for v in args.iterations.split(",") if v] or [None]
    threads = [int(v) for v in args.threads.split(",") if v] or [None]
    print(f"cpu cores {len(os.sched_getaffinity(0))}, clip {args.seconds:g} s at 30 fps, fast preset, "
          f"{args.optimizer}, device {args.device}")
    print(f"{'size':>5} {'passes':>6} {'thr':>3} {'shown':>6} {'display fps':>11} {'updates/s':>9} "
          f"{'latency ms (mean/median)':>25} {'load':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_pan_clip(Path(tmp) / "pan.mp4", photo, args.seconds)
        for size in (int(s) for s in args.sizes.split(",")):
            for its in iterations:
                for thr in threads:
                    engine = live_engine_config(size=size, iterations=its, weights=args.weights, quiet=True,
                                                optimizer=args.optimizer, device=args.device)
                    config = LiveConfig(engine=engine.replace(overwrite=True), camera=str(clip), window=False,
                                        threads=thr,
                                        record=str(Path(tmp) / f"rec{size}.mp4") if args.record else None)
                    s = run_live([style], config)
                    lat = (f"{s.latency_ms_mean:.0f} / {s.latency_ms_median:.0f}" if s.latency_ms_mean is not None
                           else "n/a")
                    print(f"{size:>5} {engine.iterations:>6} {config.worker_threads(_device(engine)):>3} "
                          f"{s.frames_shown:>6} {s.display_fps:>11.1f} {s.updates_per_second:>9.2f} {lat:>25} "
                          f"{os.getloadavg()[0]:>5.1f}", flush=True)


def clip_rows(args: argparse.Namespace) -> None:
    """The real-clip table: per clip and checkout, the recording's look against the offline flow run."""
    from vidstyle.metrics.look import LookMeter

    segments = shared_segments(MEDIA)
    chosen = [segments[c] for c in args.clips.split(",") if c] + [parse_segment(e) for e in args.external]
    style = MEDIA / "starry_night.jpg"
    meter = LookMeter(read_image(style), weights=args.weights)
    size = int(args.sizes.split(",")[0])
    rows = []
    print(f"cpu cores {len(os.sched_getaffinity(0))}, {size} px, live defaults vs offline flow 8 (40) passes; "
          "kept = live / offline, median after the first third; floor = worst frame after the first second")
    print("| clip | code | updates/s | latency ms | display fps | first frame style | style kept | content kept | "
          "content floor | live style / content | offline style / content | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache or tmp)
        cache.mkdir(parents=True, exist_ok=True)
        for segment in chosen:
            clip, fps, frames, off = prepared(segment, cache, style, size, args.weights)
            for _ in range(args.repeat):
                for code in args.code.split(","):
                    rec = Path(tmp) / "live.mp4"
                    live = run_live_child(str(Path(code).resolve()), clip, style, rec, size, args.weights, {})
                    res = compare(meter, frames, decoded(rec), live["shown"], off, fps)
                    res.update(clip=segment.name, code=code, **{k: v for k, v in live.items() if k != "shown"})
                    rows.append(res)
                    print(f"| {segment.name} | {Path(code).name} | {res['updates_per_second']:.2f} | "
                          f"{res['latency_ms']:.0f} | {res['display_fps']:.1f} | {res['first_style']:.2f} | "
                          f"{res['style_kept']:.2f} | {res['content_kept']:.2f} | {res['content_floor']:.2f} | "
                          f"{res['live_style']:.1f} / {res['live_content']:.1f} | "
                          f"{res['offline_style']:.1f} / {res['offline_content']:.1f} | {res['load']:.1f} |",
                          flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def _device(engine):  # noqa: ANN001, ANN202
    from vidstyle.compose import select_device

    return select_device(engine.device)


if __name__ == "__main__":
    main()
