"""Delivered loss against wall time for each optimiser, cold (an image) and warm (a video frame started from the
previous stylized frame), at several sizes: the measurement behind the default optimiser (README "Optimisers").

The loss is that of the image the user gets (clamped, 8-bit), re-evaluated by the engine.

    python benchmarks/bench_optimizers.py --sizes 128,256,512 --passes 25,50,100,200
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
sys.path.insert(0, str(REPO))

from vidstyle import Config, build_stylizer  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402

SHARED = REPO.parent / "shared"


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
    run(parser.parse_args())


if __name__ == "__main__":
    main()
