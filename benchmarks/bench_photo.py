"""Cost of the photorealism regulariser: building the matting Laplacian, and value+gradient per iteration.

    python benchmarks/bench_photo.py [--sizes 128 256] [--device cpu|cuda] [--repeats 5]

Uses ../shared/media/tubingen.jpg resized to each long side. Prints median wall-clock times.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from vidstyle.io.images import read_image, resize_long_side
from vidstyle.model.matting import matting_laplacian, photorealism_loss

MEDIA = ROOT.parent / "shared" / "media"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _median_time(fn, device: torch.device, repeats: int) -> float:
    fn()  # warm-up (allocator, kernels)
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = torch.device(args.device)
    image = read_image(MEDIA / "tubingen.jpg")
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'size':>10} {'pixels':>8} {'nnz':>9} {'build ms':>9} {'iter ms':>8}")
    for size in args.sizes:
        content = resize_long_side(image, size)
        h, w = content.shape[:2]
        build = _median_time(lambda: matting_laplacian(content, device=device), device, args.repeats)
        lap = matting_laplacian(content, device=device)
        loss = photorealism_loss(lap, 1.0)
        x = torch.rand(1, 3, h, w, device=device, requires_grad=True)

        def step() -> None:
            x.grad = None
            loss(x).backward()

        per_iter = _median_time(step, device, args.repeats)
        print(f"{w:>4}x{h:<5} {h * w:>8} {lap._nnz():>9} {build * 1e3:>9.1f} {per_iter * 1e3:>8.2f}")


if __name__ == "__main__":
    main()
