"""Mixed precision: final losses and seconds per iteration for fp32 vs bf16 on the same problem (fp16 is refused).

Usage: python benchmarks/bench_precision.py --weights PATH [--device cuda] [--size 512] [--iterations 200]
Prints, per precision, the final style/content/total loss (evaluated in fp32 on the result) and s/iteration,
and each one's total loss relative to fp32: the fast path keeps quality when that ratio stays near 1.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vidstyle import Config, build_stylizer  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--content", default=str(MEDIA / "tubingen.jpg"))
    ap.add_argument("--style", default=str(MEDIA / "starry_night.jpg"))
    args = ap.parse_args()
    content = resize_long_side(read_image(args.content), args.size)
    style = read_image(args.style)
    base = dict(preset=args.preset, weights=args.weights, device=args.device, size=args.size,
                iterations=args.iterations, seed=0, quiet=True, fixed_budget=True)  # equal passes
    judge = build_stylizer(Config(**base, precision="fp32"), style)
    precisions = ["fp32", "bf16"]  # fp16 is refused (vidstyle/runtime.py: its gradients flush to zero)
    print(f"device {judge.device}, {args.preset} preset, {content.shape[1]}x{content.shape[0]}, "
          f"{args.iterations} L-BFGS iterations")
    print(f"{'precision':>9} {'s/iter':>8} {'style':>10} {'content':>10} {'total':>10} {'total/fp32':>10}")
    reference = None
    for precision in precisions:
        stylizer = build_stylizer(Config(**base, precision=precision), style)
        stylizer.stylize(content, iterations=3)  # warm-up (cuDNN autotuning)
        if stylizer.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = stylizer.stylize(content)
        if stylizer.device.type == "cuda":
            torch.cuda.synchronize()
        per_iter = (time.perf_counter() - start) / max(result.iterations, 1)
        losses = judge.evaluate(result.image, content)  # judged in fp32 for every precision
        reference = reference or losses["total"]
        print(f"{precision:>9} {per_iter:8.4f} {losses['style']:10.4g} {losses['content']:10.4g} "
              f"{losses['total']:10.4g} {losses['total'] / reference:10.3f}")


if __name__ == "__main__":
    main()
