"""The look at several sizes: how far below the photo's style distance and the painting's content distance the
result gets (style strength / content fidelity of vidstyle.metrics.look: one fixed judge, the fast preset's
layers, shared weights) on the 8-bit image written. The measurement behind the default weights (README "Loss units").

    python benchmarks/calibrate_look.py --sizes 96,192,256,512 --style-weights 1e3,3e3,1e4
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vidstyle import Config, build_stylizer  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402
from vidstyle.metrics.look import LookMeter  # noqa: E402

SHARED = REPO.parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[96, 192, 256])
    parser.add_argument("--style-weights", type=lambda s: [float(x) for x in s.split(",")], default=[None])
    parser.add_argument("--units", default="scaled")
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--optimizer", default=None)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photo, style = read_image(SHARED / "media" / "tubingen.jpg"), read_image(SHARED / "media" / "starry_night.jpg")
    judge = LookMeter(style, weights=str(WEIGHTS), weights_format="caffe")
    table = Table(title=f"style x below the photo / content x below the painting ({args.preset} preset, "
                        f"{args.units} units, {args.iterations} passes)")
    table.add_column("beta", justify="right")
    for size in args.sizes:
        table.add_column(f"{size} px", justify="right")
    for beta in args.style_weights:
        cells = []
        for size in args.sizes:
            content = resize_long_side(photo, size)
            extra = {} if args.optimizer is None else {"optimizer": args.optimizer}
            config = Config(preset=args.preset, weights=str(WEIGHTS), device="cpu", size=None, quiet=True, seed=0,
                            iterations=args.iterations, loss_units=args.units, style_weight=beta,
                            fixed_budget=True, **extra)  # the look at exactly N passes
            image = build_stylizer(config, style).stylize(content).image
            look = judge.measure(image, content)
            cells.append(f"{look.style_strength:.1f}x / {look.content_fidelity:.1f}x")
            Console(stderr=True).print(f"beta {beta} {size} px: {cells[-1]}")
        table.add_row(f"{beta:g}" if beta is not None else "default", *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
