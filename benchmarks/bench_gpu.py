"""The engine's speed on a GPU (or, with --device cpu and small sizes, on the CPU): one command, a table and JSON.

Rows (docs/persistent-step.md has what they are for and the targets):

* pass: ms per steady-state Adam pass of ``Stylizer.stylize`` (captured on CUDA unless --no-capture) against a
  bare forward + backward of the same cut network (captured as a graph too), per preset and size; steady state = (time of a frame with
  ``2P`` passes - time of one with ``P``) / P, so per-frame set-up is excluded.
* video: end-to-end frames/s of ``stylize_video`` (flow, Adam and L-BFGS) on a clip.
* image: wall seconds and delivered total loss of one image (Adam and L-BFGS): the optimiser decision is
  delivered loss against time.
* live: stylization updates/s as live mode's worker runs them (Adam, init = the previous output warped along the
  host's optical flow, the image read back).

GPU:  python benchmarks/bench_gpu.py --json gpu.json
CPU:  python benchmarks/bench_gpu.py --device cpu --json cpu.json   (small sizes by default)
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import SHARED  # noqa: E402
from vidstyle import Config, Stylizer, VidstyleError, build_stylizer, stylize_frame, stylize_video  # noqa: E402
from vidstyle.config import PRESETS  # noqa: E402
from vidstyle.engine.build import load_encoder  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side  # noqa: E402
from vidstyle.io.video_files import iter_video_frames  # noqa: E402
from vidstyle.compose import select_device  # noqa: E402
from vidstyle.engine import accelerator as accelerators  # noqa: E402
from vidstyle.temporal.carry import carried  # noqa: E402
from vidstyle.live.worker import WORKER_FLOW  # noqa: E402
from vidstyle.temporal.flow import FlowEstimator  # noqa: E402

MEDIA = SHARED / "media"
GPU = dict(sizes=[512, 1024], passes=50, video_size=512, video_frames=60, image_size=512, image_passes=300,
           live_size=384, live_iterations=10, live_updates=60)
CPU = dict(sizes=[64, 128], passes=5, video_size=64, video_frames=4, image_size=64, image_passes=20,
           live_size=96, live_iterations=2, live_updates=6)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def config(args: argparse.Namespace, **kw: object) -> Config:
    # fixed budgets: every row times or compares an exact number of passes (the stopping rule would end some)
    base: dict[str, object] = dict(weights=args.weights, device=args.device, quiet=True, seed=0, optimizer="adam",
                                   capture=not args.no_capture, fixed_budget=True)
    return Config(**{**base, **kw})  # type: ignore[arg-type]


def bare_ms(cfg: Config, content: np.ndarray, device: torch.device, repeats: int) -> float:
    """ms of a forward + backward of the cut network alone (the loss layers summed) at the content's size,
    captured as a graph and replayed where the device captures (as the engine's pass is), eager elsewhere.

    The warm-up passes run on a side stream, as a capture requires; the gradient lands in a fixed buffer, so
    the replay writes where the capture did."""
    plan = cfg.layer_plan()
    layers = tuple(dict.fromkeys([*plan.content, *(n for n, _ in plan.style)]))
    encoder = load_encoder(cfg.weights, cfg.weights_format, layers, cfg.pooling, device, quiet=True)
    accelerator = accelerators.accelerator_for(device)
    x = torch.rand(1, 3, *content.shape[:2], device=device, requires_grad=True)
    grad = torch.zeros_like(x)

    def once() -> None:
        (g,) = torch.autograd.grad(sum(a.sum() for a in encoder(x).values()), x)
        grad.copy_(g)

    with accelerator.on_stream(accelerator.stream()):
        for _ in range(3):
            once()
    step = accelerator.capture(once) if accelerator.captures and cfg.capture else once
    step()
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    sync(device)
    return (time.perf_counter() - start) / repeats * 1e3


def engine_pass_ms(stylizer: Stylizer, content: np.ndarray, passes: int, repeats: int = 3) -> float:
    """ms of one steady-state pass: (a 2N-pass frame - an N-pass frame) / N, each the fastest of ``repeats``.

    The warm-up frame spends the longest budget timed (2N), so the problem, its Adam step table and the
    captured graph are made before any timing: a budget beyond the table's would grow it and capture again
    inside the timed window. The fastest of a few frames keeps a busy machine's stalls out of the
    difference (it came out negative under load)."""
    stylizer.stylize(content, iterations=2 * passes)  # build the problem, reserve, capture, cuDNN autotune
    timings: dict[int, float] = {}
    for n in (passes, 2 * passes):
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            stylizer.stylize(content, init=content, iterations=n)
            best = min(best, time.perf_counter() - start)
        timings[n] = best
    return (timings[2 * passes] - timings[passes]) / passes * 1e3


def pass_rows(args: argparse.Namespace, device: torch.device) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    photo, style = read_image(MEDIA / "tubingen.jpg"), read_image(MEDIA / "starry_night.jpg")
    for preset in args.presets:
        for size in args.sizes:
            cfg = config(args, preset=preset, size=size)
            content = resize_long_side(photo, size)
            try:
                stylizer = build_stylizer(cfg, style)
                engine = engine_pass_ms(stylizer, content, args.passes)
                bare = bare_ms(cfg, content, device, args.passes)
                rows.append(dict(kind="pass", preset=preset, size=size, pass_ms=engine, bare_ms=bare,
                                 ratio=engine / bare))
            except VidstyleError as exc:  # e.g. the paper preset with weights that stop at conv3_4
                rows.append(dict(kind="pass", preset=preset, size=size, skipped=str(exc)))
    return rows


def video_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for optimizer in ("adam", "lbfgs"):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config(args, preset="fast", size=args.video_size, iterations=args.passes,
                         first_iterations=2 * args.passes, temporal="flow", max_frames=args.video_frames,
                         optimizer=optimizer, audio=False)
            start = time.perf_counter()
            report = stylize_video(args.video, MEDIA / "starry_night.jpg", Path(tmp) / "out.mp4", cfg)
            wall = time.perf_counter() - start
        frames = report["totals"]["frames"]
        rows.append(dict(kind="video", optimizer=optimizer, size=args.video_size, passes=args.passes, frames=frames,
                         fps=frames / wall, wall_s=wall))
    return rows


def image_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for optimizer in ("adam", "lbfgs"):
        cfg = config(args, preset="fast", size=args.image_size, iterations=args.image_passes, optimizer=optimizer)
        start = time.perf_counter()
        result = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg)
        wall = time.perf_counter() - start
        rows.append(dict(kind="image", optimizer=optimizer, size=args.image_size, passes=args.image_passes,
                         wall_s=wall, delivered_total=result.losses["total"]))
    return rows


def live_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    """Updates/s as live mode's worker runs them: each update warps the previous result onto the new frame
    along the host's optical flow with the camera's change (live/worker.carry), runs the passes and reads the image back."""
    cfg = config(args, preset="fast", size=args.live_size, iterations=args.live_iterations)
    frames = iter_video_frames(MEDIA / "bikes.mp4", size=args.live_size, max_frames=args.live_updates + 3)
    first = next(frames)
    stylizer = build_stylizer(cfg, read_image(MEDIA / "starry_night.jpg"), reference=first)
    flow = FlowEstimator(WORKER_FLOW)
    previous, last = stylizer.stylize(first).image, first
    count, start, warp_s = 0, 0.0, 0.0
    for i, frame in enumerate(frames):
        if i == 2:  # two warm-up updates (capture, autotuning)
            count, start, warp_s = 0, time.perf_counter(), 0.0
        began = time.perf_counter()
        init = carried(previous, last, frame, flow(frame, last))
        warp_s += time.perf_counter() - began
        previous, last = stylizer.stylize(frame, init=init, measure=False).image, frame  # as the worker does
        count += 1
    wall = time.perf_counter() - start
    return [dict(kind="live", size=args.live_size, iterations=args.live_iterations, updates_per_s=count / wall,
                 flow_warp_ms=warp_s / max(count, 1) * 1e3)]


def table(rows: list[dict[str, object]]) -> str:
    lines = []
    for r in rows:
        if "skipped" in r:
            lines.append(f"{r['kind']:6} {r.get('preset', '')} {r.get('size', '')} px: skipped ({r['skipped']})")
        elif r["kind"] == "pass":
            lines.append(f"pass   {r['preset']:5} {r['size']:5} px  {r['pass_ms']:8.2f} ms/pass  bare "
                         f"{r['bare_ms']:8.2f} ms  ratio {r['ratio']:.2f}x")
        elif r["kind"] == "video":
            lines.append(f"video  {r['optimizer']:5} {r['size']:5} px  {r['frames']} frames x {r['passes']} passes  "
                         f"{r['fps']:.2f} frames/s")
        elif r["kind"] == "image":
            lines.append(f"image  {r['optimizer']:5} {r['size']:5} px  {r['passes']} passes  {r['wall_s']:.2f} s  "
                         f"delivered total {r['delivered_total']:.4g}")
        else:
            lines.append(f"live   {r['size']:5} px  {r['iterations']} passes/update  {r['updates_per_s']:.2f} updates/s"
                         f"  (host flow + warp {r['flow_warp_ms']:.1f} ms of each)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--weights", default=str(SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"))
    parser.add_argument("--presets", nargs="+", default=["fast", "paper"], choices=sorted(PRESETS))
    parser.add_argument("--sizes", nargs="+", type=int)
    parser.add_argument("--passes", type=int)
    parser.add_argument("--video", default=str(MEDIA / "bigbuckbunny.mp4"))
    for name in ("video_size", "video_frames", "image_size", "image_passes", "live_size", "live_iterations",
                 "live_updates"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, dest=name)
    parser.add_argument("--only", nargs="+", choices=["pass", "video", "image", "live"],
                        default=["pass", "video", "image", "live"])
    parser.add_argument("--no-capture", action="store_true", help="eager passes on CUDA too (the comparison)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    for name, value in (CPU if device.type == "cpu" else GPU).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    rows: list[dict[str, object]] = []
    sections = {"pass": lambda: pass_rows(args, device), "video": lambda: video_rows(args),
                "image": lambda: image_rows(args), "live": lambda: live_rows(args)}
    for name in args.only:
        rows += sections[name]()
    info = {"device": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "cpu",
            "torch": torch.__version__, "threads": torch.get_num_threads(), "capture": not args.no_capture,
            "rows": rows}
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
