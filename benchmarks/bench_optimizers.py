"""Delivered loss against wall time for each optimiser, cold (an image) and warm (a video frame started from the
previous stylized frame), at several sizes: the measurement behind the default optimiser (README "Optimisers").

The loss is that of the image the user gets (clamped, 8-bit), re-evaluated by the engine.

    python benchmarks/bench_optimizers.py --sizes 128,256,512 --passes 25,50,100,200
    python benchmarks/bench_optimizers.py --video bikes bunny --video-passes 8 20 50 --frames 36 [--code CHECKOUT]

``--video``: flow-mode runs of the shared real clips (L-BFGS, ``--fixed-budget``, 160 px, ``--first`` passes
for a shot's first frame): the mean delivered total of the frames after each shot's first, per shot. With
``--code CHECKOUT`` the package is imported from another checkout (a worktree of an earlier commit), so the
same command measures an earlier method: torch's eager L-BFGS is in commit 841129d.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv[:-1] else str(REPO)
sys.path.insert(0, CODE)  # --code: the package of another checkout

from vidstyle import Config, build_stylizer, stylize_video  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402

SHARED = REPO.parent / "shared"
CLIPS = {"bikes": "bikes.mp4", "bunny": "bigbuckbunny.mp4"}


def pan(image: np.ndarray, dx: int) -> np.ndarray:
    """The image shifted left by ``dx`` pixels, the last columns repeated (a camera pan)."""
    return np.concatenate([image[:, dx:], np.repeat(image[:, -1:], dx, axis=1)], axis=1)


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    photo, style = read_image(SHARED / "media" / "tubingen.jpg"), read_image(SHARED / "media" / "starry_night.jpg")
    table = Table(title=f"delivered loss (8-bit image) and seconds, {args.device}, {args.threads} thread(s), "
                        f"{args.preset} preset, {args.units} units")
    for col in ("size", "start", "optimizer", *[f"{n} passes" for n in args.passes]):
        table.add_column(col, justify="right")
    for size in args.sizes:
        frame0 = resize_long_side(photo, size)
        frame1 = pan(frame0, max(1, size // 64))
        base = dict(preset=args.preset, weights=args.weights, device=args.device, size=None, quiet=True, seed=0,
                    loss_units=args.units, fixed_budget=True)  # equal passes: no early stop
        warm_start = build_stylizer(Config(**base, iterations=args.warm_prep), style).stylize(frame0).image
        for start, content, init in (("cold", frame0, None), ("warm", frame1, pan(warm_start, max(1, size // 64)))):
            for optimizer in ("lbfgs", "adam"):
                cells = []
                for passes in args.passes:
                    stylizer = build_stylizer(Config(**base, iterations=passes, optimizer=optimizer, lr=args.lr), style)
                    t = time.perf_counter()
                    result = stylizer.stylize(content, init=init)
                    seconds = time.perf_counter() - t
                    cells.append(f"{result.losses['total']:.4g} / {seconds:.1f}s")
                table.add_row(str(size), start, optimizer, *cells)
                Console(stderr=True).print(f"done {size} {start} {optimizer}")
    Console().print(table)


def video(args: argparse.Namespace) -> None:
    """Per clip and pass budget: the mean delivered total of each shot's frames after its first."""
    import tempfile

    torch.set_num_threads(args.threads)
    print(f"code {CODE}; flow, L-BFGS, {args.video_size} px, first frame {args.first} passes, fixed budgets")
    print("| clip | passes | shot | frames | mean delivered total |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.video:
        for passes in args.video_passes:
            with tempfile.TemporaryDirectory() as tmp:
                cfg = Config(preset=args.preset, weights=args.weights, device=args.device, size=args.video_size,
                             iterations=passes, first_iterations=args.first, temporal="flow", seed=0, quiet=True,
                             max_frames=args.frames, audio=False, optimizer="lbfgs", fixed_budget=True)
                report = stylize_video(SHARED / "media" / CLIPS[name], SHARED / "media" / "starry_night.jpg",
                                       Path(tmp) / "out.mp4", cfg)
            frames = report["frames"]
            starts = [i for i, f in enumerate(frames) if i == 0 or f.get("shot_change")]
            for a, b in zip(starts, starts[1:] + [len(frames)]):
                rest = [f["losses"]["total"] for f in frames[a + 1:b]]
                if rest:
                    print(f"| {name} | {passes} | {a}-{b - 1} | {len(rest)} | {np.mean(rest):.4f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[128, 256])
    parser.add_argument("--passes", type=lambda s: [int(x) for x in s.split(",")], default=[25, 50, 100, 200])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--units", default="paper", choices=("scaled", "paper"))
    parser.add_argument("--lr", type=float, default=0.02, help="Adam step size")
    parser.add_argument("--warm-prep", type=int, default=100, help="passes that make the previous frame")
    parser.add_argument("--weights", default=str(SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--video", nargs="+", choices=sorted(CLIPS), help="flow runs of these clips instead")
    parser.add_argument("--video-passes", nargs="+", type=int, default=[8, 20, 50])
    parser.add_argument("--video-size", type=int, default=160)
    parser.add_argument("--first", type=int, default=40, help="passes of each shot's first frame")
    parser.add_argument("--frames", type=int, default=36, help="frames of each clip (bikes: a cut at 30)")
    parser.add_argument("--code", help="import vidstyle from this checkout (an earlier commit's method)")
    args = parser.parse_args()
    video(args) if args.video else run(args)


if __name__ == "__main__":
    main()
