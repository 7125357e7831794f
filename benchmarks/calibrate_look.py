"""The look at several sizes: how far below the photo's style distance and the painting's content distance the
result gets, measured by one fixed judge (the fast preset's layers in the paper's units, shared weights) on the
8-bit image written. The measurement behind the default weights (README "Loss units").

    python benchmarks/calibrate_look.py --sizes 96,192,256,512 --style-weights 1e3,3e3,1e4
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vidstyle import Config, Stylizer  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402

SHARED = REPO.parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


def look(image: np.ndarray, content: np.ndarray, style: np.ndarray, judge: Stylizer) -> tuple[float, float]:
    """(style ratio, content ratio): photo's style distance / the image's, painting's content distance / the
    image's, under ``judge`` (fixed layers and units)."""
    painting = cv2.resize(style, content.shape[1::-1], interpolation=cv2.INTER_AREA)
    out = judge.evaluate(image, content)
    return (judge.evaluate(content, content)["style"] / out["style"],
            judge.evaluate(painting, content)["content"] / out["content"])


def judge_for(style: np.ndarray, weights: str = str(WEIGHTS)) -> Stylizer:
    """The fixed judge: fast-preset layers, paper units, shared weights."""
    return Stylizer(Config(preset="fast", weights=weights, weights_format="caffe", device="cpu", size=None,
                           quiet=True, loss_units="paper"), style)


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
    judge = judge_for(style)
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
                            iterations=args.iterations, loss_units=args.units, style_weight=beta, **extra)
            image = Stylizer(config, style).stylize(content).image
            s, c = look(image, content, style, judge)
            cells.append(f"{s:.1f}x / {c:.1f}x")
            Console(stderr=True).print(f"beta {beta} {size} px: {cells[-1]}")
        table.add_row(f"{beta:g}" if beta is not None else "default", *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
