"""Seconds per L-BFGS iteration of Stylizer.stylize, against a bare forward + backward of the same cut VGG.

    python benchmarks/bench_iteration.py --weights PATH [--device auto] [--sizes 128,256,512] [--iterations 10]

For each preset (paper, fast) and size it prints:
  * stylize s/it: the median time of one optimisation pass (forward, eq. 7, backward, torch's L-BFGS
    bookkeeping and the engine's per-pass read-out), timed between consecutive Stylizer callbacks after
    ``--warmup`` passes;
  * bare s/it: the median time of forward + backward of the same cut encoder (same layers, pooling and
    precision; loss = sum of the requested activations' means, backward to the input), run inside the same
    callbacks so that both see the same machine load, and excluded from the Stylizer's times;
  * ratio = stylize / bare: the cost of everything besides the network (Grams, losses, L-BFGS). Target <= 1.1;
  * paper/fast: the paper preset's per-pass cost over the fast preset's, when both ran.
A preset whose layers the weights file lacks (the shared conv1_1..conv3_4 file has no relu4_2/relu5_1) is
reported as skipped, with the reason. L-BFGS's history grows with the passes (up to 50), so its share grows
too: ``--warmup 60`` times passes with a full history.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark this checkout, not whichever vidstyle is installed

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from vidstyle.config import Config  # noqa: E402
from vidstyle.errors import VidstyleError  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402
from vidstyle.model.vgg import VGGFeatures  # noqa: E402
from vidstyle.engine.build import load_encoder  # noqa: E402
from vidstyle.model.encoder import Encoder  # noqa: E402
from vidstyle import build_stylizer  # noqa: E402
from vidstyle.engine import Stylizer  # noqa: E402
from vidstyle.runtime import autocast, autocast_dtype  # noqa: E402

SAMPLES = REPO / "samples"
TARGET = 1.1


@dataclass
class Row:
    """One preset at one size: per-iteration seconds of the Stylizer and of the bare network, or a skip reason."""

    preset: str
    size: int
    shape: str = ""
    stylize_s: float | None = None
    bare_s: float | None = None
    skipped: str = ""
    device: str = ""
    early_stops: list[int] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.stylize_s / self.bare_s if self.stylize_s and self.bare_s else None


def sync(device: torch.device) -> None:
    """Wait for queued GPU work so wall-clock times are real."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def describe(device: torch.device) -> str:
    """'cpu (2 threads)', 'cuda (NVIDIA H100 ...)', ..."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"
    return device.type


def bare_pass(encoder: Encoder, x: torch.Tensor, stylizer: Stylizer, precision: str) -> float:
    """Seconds of one forward + backward of ``encoder`` (loss = sum of the activations' means) to ``x``."""
    sync(stylizer.device)
    start = time.perf_counter()
    x.grad = None
    with autocast(stylizer.device, autocast_dtype(stylizer.device, precision)):
        feats = encoder(x)
    loss = sum(f.float().mean() for f in feats.values())
    loss.backward()
    sync(stylizer.device)
    return time.perf_counter() - start


def measure(config: Config, stylizer: Stylizer, content: np.ndarray, warmup: int,
            iterations: int) -> tuple[float, float, list[int]]:
    """Median seconds per Stylizer pass and per bare pass of the same cut encoder, measured interleaved.

    A Stylizer pass is the time between consecutive callbacks (forward, losses, backward, L-BFGS bookkeeping,
    the engine's own per-pass read-out). Each callback also runs one bare pass, whose time is excluded from the
    Stylizer's gaps, so both figures see the same machine load (a shared CPU drifts a lot). If L-BFGS stops
    before its budget, stylize is called again from where it stopped; the third value lists such early stops.
    """
    plan = config.layer_plan()
    encoder = load_encoder(config.weights, config.weights_format, plan.layers, config.pooling, stylizer.device,
                           quiet=True)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((1, 3, *content.shape[:2]), generator=gen).to(stylizer.device).requires_grad_(True)
    for _ in range(warmup):  # cuDNN autotuning, allocator; the Stylizer's own warm-up passes are skipped below
        bare_pass(encoder, x, stylizer, config.precision)
    gaps: list[float] = []
    bare: list[float] = []
    stops: list[int] = []
    left = [0.0]
    skip = [warmup]  # passes of the current stylize call whose gap is not recorded

    def callback(i: int, _: dict[str, float]) -> None:
        sync(stylizer.device)  # the engine's loss read-out already syncs; keep it explicit
        arrived = time.perf_counter()
        if i > skip[0] and len(gaps) < iterations:
            gaps.append(arrived - left[0])
            bare.append(bare_pass(encoder, x, stylizer, config.precision))
        left[0] = time.perf_counter()

    image = None
    for _ in range(10):
        budget = skip[0] + iterations - len(gaps)
        result = stylizer.stylize(content, init=image, iterations=budget, callback=callback)
        if len(gaps) >= iterations:
            break
        stops.append(result.iterations)
        image, skip[0] = result.image, 1
    if len(gaps) < 3:
        raise RuntimeError(f"L-BFGS keeps stopping early (after {stops} passes); no timing")
    return statistics.median(gaps), statistics.median(bare), stops


def bench(preset: str, size: int, args: argparse.Namespace, content_src: np.ndarray, style: np.ndarray) -> Row:
    """Measure one preset at one size; a VidstyleError (e.g. weights lacking the preset's layers) is a skip."""
    row = Row(preset, size)
    config = Config(preset=preset, weights=args.weights, device=args.device, precision=args.precision,
                    size=size, seed=0, quiet=True, fixed_budget=True)  # timed passes: no early stop
    content = resize_long_side(content_src, size)
    row.shape = f"{content.shape[1]}x{content.shape[0]}"
    try:
        stylizer = build_stylizer(config, style)
        row.device = describe(stylizer.device)
        row.stylize_s, row.bare_s, row.early_stops = measure(config, stylizer, content, args.warmup, args.iterations)
    except (VidstyleError, RuntimeError) as exc:
        row.skipped = str(exc)
    return row


def render(rows: list[Row], device: str, args: argparse.Namespace) -> Table:
    """The results table, with the paper/fast cost ratio per size when both presets ran."""
    table = Table(title=f"seconds per iteration on {device} (median of {args.iterations} after {args.warmup} warm-up)")
    for col in ("preset", "size", "frame", "stylize s/it", "bare fwd+bwd s/it", "ratio", "paper/fast"):
        table.add_column(col, justify="left" if col in ("preset", "frame") else "right")
    fast = {r.size: r.stylize_s for r in rows if r.preset == "fast" and r.stylize_s}
    for r in rows:
        if r.skipped:
            table.add_row(r.preset, str(r.size), r.shape, "skipped", "", "", "")
            continue
        ratio = f"{r.ratio:.2f}x" + (" ok" if r.ratio <= TARGET else f" > {TARGET}")
        cross = f"{r.stylize_s / fast[r.size]:.2f}x" if r.preset == "paper" and r.size in fast else ""
        table.add_row(r.preset, str(r.size), r.shape, f"{r.stylize_s:.4f}", f"{r.bare_s:.4f}", ratio, cross)
    return table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    parser.add_argument("--weights", help="VGG-19 checkpoint (default: $VIDSTYLE_WEIGHTS, else the torchvision cache)")
    parser.add_argument("--random-weights", action="store_true",
                        help="time with a random full VGG-19 (speed does not depend on the values): lets the paper "
                        "preset run where only a partial checkpoint is at hand; quality figures are meaningless")
    parser.add_argument("--sizes", default="128,256,512", help="long sides in pixels, comma-separated")
    parser.add_argument("--presets", default="paper,fast", help="comma-separated presets")
    parser.add_argument("--iterations", type=int, default=10, help="timed passes per measurement (default: 10)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed passes first (default: 3; ~60 to time with a full L-BFGS history)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (on a busy shared CPU, 1 is steadier)")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes expects comma-separated integers, got {args.sizes!r}")
    args.presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    if args.iterations < 1 or args.warmup < 1:
        parser.error("--iterations and --warmup must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every preset at every size and print the table."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    content_src, style = read_image(SAMPLES / "street.png"), read_image(SAMPLES / "strokes.png")
    if args.random_weights:
        scratch = tempfile.TemporaryDirectory()
        args.weights = str(Path(scratch.name) / "vgg19-random.pth")
        torch.manual_seed(0)
        torch.save({k: v * 0.01 for k, v in VGGFeatures(["pool5"]).state_dict().items()}, args.weights)
    console = Console(width=max(100, Console().width))
    rows = [bench(preset, size, args, content_src, style) for preset in args.presets for size in args.sizes]
    device = next((r.device for r in rows if r.device), args.device)
    console.print(render(rows, device, args))
    for reason in dict.fromkeys(f"{r.preset}: {r.skipped}" for r in rows if r.skipped):
        console.print(f"skipped {reason}", highlight=False)
    for r in rows:
        if r.early_stops:
            console.print(f"note: {r.preset} {r.size}: L-BFGS stopped before its budget after {r.early_stops} "
                          f"passes and was restarted from its last image", highlight=False)
    if any(r.ratio and r.ratio > TARGET for r in rows):
        console.print(f"ratio above the {TARGET}x target: the optimisation adds more than "
                      f"{(TARGET - 1) * 100:.0f}% to the network's own cost", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
