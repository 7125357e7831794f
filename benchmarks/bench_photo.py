"""Cost of the photorealism regulariser: building the matting Laplacian, and value+gradient per iteration.

    python benchmarks/bench_photo.py [--sizes 128 256] [--device cpu|cuda] [--repeats 5] [--threads N]
    python benchmarks/bench_photo.py --calibrate [--lambdas 0 1e7 1e8] [--iterations 150]

Uses ../shared/media/tubingen.jpg resized to each long side. Prints median wall-clock times.
--calibrate repeats the measurement behind the photo preset's lambda: tubingen (128 px) styled after a
colour-graded crop of itself with the photo preset and the shared relu3_4 weights, printing per lambda the Lab
mean colour gap to the reference (lower = more of its look transferred) and the correlation of Sobel edge
magnitudes with the content (higher = structure kept, no painterly strokes).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from vidstyle.io.images import read_image, resize_long_side
from vidstyle.model.matting import laplacian_quadratic, matting_laplacian

MEDIA = ROOT.parent / "shared" / "media"
WEIGHTS = ROOT.parent / "shared" / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


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


def graded_crop(image: np.ndarray) -> np.ndarray:
    """A photo reference with another look: the lower-right part of ``image`` with a warm, low-blue grade."""
    h, w = image.shape[:2]
    crop = image[h // 4:, w // 3:].astype(np.float32) / 255
    grade = np.array([[0.9, 0.25, 0.1], [0.05, 0.7, 0.1], [0.0, 0.1, 0.45]], np.float32)
    return (np.clip(crop @ grade.T * 1.15 + np.array([0.05, 0.02, 0.0], np.float32), 0, 1) * 255).astype(np.uint8)


def _sobel(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)).ravel()


def _lab_mean(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32).mean(0)


def calibrate(lambdas: list[float], iterations: int, size: int, device: str) -> None:
    """Photo preset on tubingen vs a graded crop of it, for several lambdas (see the module docstring)."""
    from vidstyle import Config, build_stylizer

    full = read_image(MEDIA / "tubingen.jpg")
    content, style = resize_long_side(full, size), graded_crop(full)
    target = _lab_mean(resize_long_side(style, size))
    print(f"content: Lab mean gap to the reference {np.abs(_lab_mean(content) - target).round(1)}")
    print(f"{'lambda':>8} {'Lab mean gap (L, a, b)':>24} {'Sobel corr':>10} {'seconds':>8}")
    for lam in lambdas:
        config = Config(preset="photo", photo_weight=lam, weights=str(WEIGHTS), size=size, iterations=iterations,
                        device=device, seed=0, quiet=True, fixed_budget=True)  # each lambda at equal passes
        stylizer = build_stylizer(config, style)
        result = stylizer.stylize(content)
        corr = np.corrcoef(_sobel(result.image), _sobel(content))[0, 1]
        gap = np.abs(_lab_mean(result.image) - target).round(1)
        print(f"{lam:>8g} {gap!s:>24} {corr:>10.3f} {result.seconds:>8.1f}")


def _bench_size(content: np.ndarray, device: torch.device, repeats: int) -> None:
    """One table row: Laplacian build time and value+gradient time of the term for ``content``."""
    h, w = content.shape[:2]
    build = _median_time(lambda: matting_laplacian(content, device=device), device, repeats)
    lap = matting_laplacian(content, device=device)
    x = torch.rand(1, 3, h, w, device=device, requires_grad=True)

    def step() -> None:
        x.grad = None
        laplacian_quadratic(lap, x).backward()

    per_iter = _median_time(step, device, repeats)
    print(f"{w:>4}x{h:<5} {h * w:>8} {lap._nnz():>9} {build * 1e3:>9.1f} {per_iter * 1e3:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="CPU threads for torch (1 is steadier on a busy machine)")
    parser.add_argument("--calibrate", action="store_true", help="measure the photo preset's lambda instead")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 1e6, 1e7, 3e7, 1e8])
    parser.add_argument("--iterations", type=int, default=150)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.calibrate:
        calibrate(args.lambdas, args.iterations, args.sizes[0], args.device)
        return
    device = torch.device(args.device)
    image = read_image(MEDIA / "tubingen.jpg")
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'size':>10} {'pixels':>8} {'nnz':>9} {'build ms':>9} {'iter ms':>8}")
    for size in args.sizes:
        _bench_size(resize_long_side(image, size), device, args.repeats)

if __name__ == "__main__":
    main()
