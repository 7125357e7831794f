"""How many live updates a second this machine's cores allow, against what the look on real footage needs.

One live update (the live defaults: fast preset, Adam, the passes per update of the device, the last pass's
image unmeasured) is timed alone, with nothing else running, on frames of a shared real clip; torch's
FlopCounterMode counts the floating-point work of that update, and a dense 3x3 convolution of the network's
own shape times what the cores deliver at best. So it prints: an update's GFLOP and milliseconds, the rate
it runs at, the cores' dense-convolution rate, and the updates per second that rate would allow if an update
ran at it (the ceiling of the optimiser's update rate on this machine, before any display, camera decoding or
recording takes its share).

    python benchmarks/bench_live_ceiling.py [--clip bikes-30] [--size 160] [--repeat 15]

docs/live.md compares the ceiling with the update rate benchmarks/replay_live.py finds the look needs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import MEDIA, WEIGHTS  # noqa: E402
from live_look import camera_frames, cut, shared_segments  # noqa: E402


class FlopCount(TorchDispatchMode):
    """The FLOP of every operator torch's flop counter knows (convolutions and their backward, matrix
    products), counted at dispatch. (FlopCounterMode itself tracks modules with hooks that autograd.grad,
    which the engine's pass uses, refuses.)"""

    def __init__(self) -> None:
        super().__init__()
        self.flop = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.flop += count(*args, **(kwargs or {}), out_val=out)
        return out


def update_time_and_flops(frames: list[np.ndarray], weights: str, repeat: int) -> tuple[float, float, int]:
    """(median seconds, FLOP, passes) of one live update alone: each frame from the last result."""
    from vidstyle.compose import resolve_engine
    from vidstyle.engine import load_settings_encoder, make_stylizer
    from vidstyle.io.images import read_image
    from vidstyle.live.config import live_engine_config

    settings = resolve_engine(live_engine_config(size=max(frames[0].shape[:2]), weights=weights, quiet=True))
    stylizer = make_stylizer(settings, [read_image(MEDIA / "starry_night.jpg")], reference=frames[0],
                             encoder=load_settings_encoder(settings))
    passes = settings.iterations
    last = stylizer.stylize(frames[0], iterations=passes, measure=False).image  # warm-up, the loss scale kept
    counter = FlopCount()
    with counter:
        stylizer.stylize(frames[1 % len(frames)], init=last, iterations=passes, measure=False)
    seconds = []
    for i in range(repeat):
        frame = frames[(i + 2) % len(frames)]
        start = time.perf_counter()
        last = stylizer.stylize(frame, init=last, iterations=passes, measure=False).image
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), float(counter.flop), passes


def dense_rate(height: int, width: int, repeat: int) -> float:
    """FLOP/s of the cores at their best on this network's work: the 128 -> 128 channel 3x3 convolution of
    VGG's second block at that block's size, median of ``repeat``."""
    x, w = torch.randn(1, 128, height // 2, width // 2), torch.randn(128, 128, 3, 3)
    flop = 2 * 128 * 128 * 9 * (height // 2) * (width // 2)
    for _ in range(3):
        F.conv2d(x, w, padding=1)
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        F.conv2d(x, w, padding=1)
        seconds.append(time.perf_counter() - start)
    return flop / float(np.median(seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=str(WEIGHTS))
    ap.add_argument("--clip", default="bikes-30", help="a shared clip: " + ", ".join(shared_segments(MEDIA)))
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--threads", type=int, help="torch threads (default: all cores, as live mode's worker)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        clip, _ = cut(shared_segments(MEDIA)[args.clip], Path(tmp))
        frames = camera_frames(clip, args.size)[:20]
    h, w = frames[0].shape[:2]
    seconds, flop, passes = update_time_and_flops(frames, args.weights, args.repeat)
    rate = dense_rate(h, w, args.repeat * 4)
    print(f"{args.clip} at {w}x{h}, {passes} passes per update, {torch.get_num_threads()} torch threads")
    print("| update GFLOP | update ms (alone, median) | update GFLOP/s | dense conv GFLOP/s | share of it | "
          "updates/s alone | updates/s at the dense rate |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {flop / 1e9:.2f} | {seconds * 1e3:.0f} | {flop / seconds / 1e9:.0f} | {rate / 1e9:.0f} | "
          f"{flop / seconds / rate:.2f} | {1 / seconds:.1f} | {rate / flop:.1f} |")


if __name__ == "__main__":
    main()
