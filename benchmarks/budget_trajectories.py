"""Full-budget runs recorded every 10 passes, and any stopping rule judged on the records (docs/stopping.md).

    python benchmarks/budget_trajectories.py --record traj.jsonl --sizes 128 256 --optimizers lbfgs adam
    python benchmarks/budget_trajectories.py --judge traj.jsonl --windows 30 50 --tolerances 0.01 0.02 0.03

``--record`` runs Tübingen with each painting for the whole cap (``--fixed-budget``) and keeps, after every 10th
pass, the best loss and the best image so far: exactly what the stopping rule reads
(vidstyle/engine/convergence.py), from the persistent pass's problem, read by wrapping the loss reader for the
run (no package code is copied). Each kept image's look is measured under the fixed network
(vidstyle/metrics/look.py).

``--judge`` replays a rule (window, tolerance) over the records. It prints, per case, the pass where the rule
stops and the look there as a share of the full budget's, and, per rule, the mean share of passes and the
mean and worst look kept. ``bench_budget.py`` runs the chosen rule for real to check these figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import MEDIA, WEIGHTS  # noqa: E402

from vidstyle import Config, build_stylizer  # noqa: E402
from vidstyle.engine import step  # noqa: E402
from vidstyle.engine.tensors import to_image  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402
from vidstyle.metrics.look import LookMeter  # noqa: E402

STYLES = ("starry_night", "the_scream", "shipwreck", "woman-with-hat-matisse")
EVERY = 10


def record(args: argparse.Namespace) -> None:
    kept: dict[int, tuple[np.ndarray, float]] = {}
    after_pass = step.LossReader.after_pass

    def recording_after(self: step.LossReader, done: int) -> dict[str, float]:
        if done % EVERY == 0:
            kept[done] = (to_image(self.problem.best_x), float(self.problem.best_value[0]))
        return after_pass(self, done)

    step.LossReader.after_pass = recording_after  # type: ignore[method-assign]
    photo = read_image(MEDIA / "tubingen.jpg")
    with open(args.out, "a") as out:
        for size in args.sizes:
            content = resize_long_side(photo, size)
            for optimizer in args.optimizers:
                for name in args.styles:
                    style = read_image(MEDIA / f"{name}.jpg")
                    meter = LookMeter(style, weights=args.weights)
                    config = Config(preset="fast", weights=args.weights, device="cpu", size=size, seed=0,
                                    quiet=True, optimizer=optimizer, iterations=args.iterations, fixed_budget=True)
                    kept.clear()
                    result = build_stylizer(config, style).stylize(content, callback=lambda *_: None)
                    rows = []
                    for n in sorted(kept):
                        look = meter.measure(kept[n][0], content)
                        rows.append((n, kept[n][1], look.style_strength, look.content_fidelity))
                    final = meter.measure(result.image, content)
                    line = dict(size=size, opt=optimizer, style=name, rows=rows,
                                final=(result.losses["total"], final.style_strength, final.content_fidelity))
                    out.write(json.dumps(line) + "\n")
                    out.flush()
                    print(f"{name} {size} px {optimizer}: recorded {len(rows)} points", flush=True)


def stop_pass(rows: dict[int, tuple[float, float, float]], window: int, tolerance: float, cap: int) -> int:
    """Where the rule (convergence.Convergence's test on readings every 10 passes) stops a recorded run."""
    for n in range(EVERY, cap + 1, EVERY):
        earlier = [rows[m][0] for m in sorted(rows) if m <= n - window]
        if earlier and earlier[-1] - rows[n][0] <= tolerance * abs(earlier[-1]):
            return n
    return cap


def judge(args: argparse.Namespace) -> None:
    cases = [json.loads(line) for path in args.records for line in open(path)]
    for window in args.windows:
        for tolerance in args.tolerances:
            shares, style, content = [], [], []
            for case in cases:
                rows = {n: (b, s, c) for n, b, s, c in case["rows"]}
                cap = max(rows)
                n = stop_pass(rows, window, tolerance, cap)
                _, full_style, full_content = case["final"]
                shares.append(n / cap)
                style.append(rows[n][1] / full_style)
                content.append(rows[n][2] / full_content)
                if args.per_case:
                    print(f"  {case['style']} {case['size']} px {case['opt']}: stops at {n}, style kept "
                          f"{style[-1]:.3f}, content kept {content[-1]:.3f}")
            print(f"window {window}, tolerance {tolerance:g}, {len(cases)} cases: passes {np.mean(shares):.2f} of "
                  f"the cap; style kept {np.mean(style):.3f} / worst {min(style):.3f}; content kept "
                  f"{np.mean(content):.3f} / worst {min(content):.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", metavar="OUT", dest="out", help="run the cases; JSON lines appended to OUT")
    parser.add_argument("--judge", metavar="RECORDS", nargs="+", dest="records", help="judge rules on records")
    parser.add_argument("--weights", default=str(WEIGHTS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 256])
    parser.add_argument("--styles", nargs="+", default=list(STYLES), choices=STYLES)
    parser.add_argument("--optimizers", nargs="+", default=["lbfgs", "adam"], choices=["lbfgs", "adam"])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--windows", nargs="+", type=int, default=[50])
    parser.add_argument("--tolerances", nargs="+", type=float, default=[0.01, 0.015, 0.02, 0.03])
    parser.add_argument("--per-case", action="store_true", help="judge: every case's stopping pass and look")
    args = parser.parse_args()
    if not args.out and not args.records:
        parser.error("give --record OUT or --judge RECORDS")
    if args.out:
        torch.set_num_threads(args.threads)
        record(args)
    if args.records:
        judge(args)


if __name__ == "__main__":
    main()
