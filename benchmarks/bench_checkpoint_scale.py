"""How far a checkpoint with 10x activations moves the image, next to float rounding alone (thread count).

Prints, for L-BFGS and Adam, the mean |difference| (of 255) between the images of: the shared weights with
1 and with 2 torch threads (rounding only), and the shared weights and the 10x checkpoint (1 thread).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import MEDIA, WEIGHTS  # noqa: E402
from samples.checkpoints import scaled_checkpoint  # noqa: E402
from vidstyle import Config, build_stylizer  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402


def cfg(weights: Path, **kw: object) -> Config:
    """The tests' tiny, seeded CPU configuration (tests/engine/test_units.py)."""
    return Config(**{**dict(preset="fast", weights=str(weights), device="cpu", size=None, iterations=20, seed=0,
                            quiet=True), **kw})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--units", default="scaled")
    args = parser.parse_args()
    content = resize_long_side(read_image(MEDIA / "tubingen.jpg"), args.size)
    style = read_image(MEDIA / "starry_night.jpg")
    with tempfile.TemporaryDirectory() as tmp:
        ten = scaled_checkpoint(WEIGHTS, Path(tmp), 10.0)

        def run(weights: Path, threads: int, optimizer: str) -> np.ndarray:
            torch.set_num_threads(threads)
            config = cfg(weights, iterations=args.iterations, optimizer=optimizer, loss_units=args.units)
            return build_stylizer(config, style).stylize(content).image.astype(np.float64)

        print(f"{args.size} px, {args.iterations} passes, {args.units} units, fast preset, Tübingen + Starry Night")
        print("| optimiser | same weights, 1 vs 2 threads | shared vs 10x checkpoint |")
        print("| --- | --- | --- |")
        for optimizer in ("lbfgs", "adam"):
            one, two, tenx = run(WEIGHTS, 1, optimizer), run(WEIGHTS, 2, optimizer), run(ten, 1, optimizer)
            print(f"| {optimizer} | {np.abs(one - two).mean():.2f} | {np.abs(one - tenx).mean():.2f} |", flush=True)


if __name__ == "__main__":
    main()
