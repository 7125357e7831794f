"""Distributed runs on Ray: throughput with 1, 2 and 4 workers, and the seam quality of the chunked output.

    python benchmarks/bench_ray.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth
    python benchmarks/bench_ray.py --gpus-per-task 1 0.5 0.25   # on a GPU machine: 1, 2, 4 chunks per GPU

A pan over tubingen.jpg (tests/helpers/motion_clips) as a frame folder, stylized with --ray on a local Ray.
Per worker count: wall seconds of the distributed run (Ray start excluded: one Ray for all runs), frames/s
of output frames, the ratio to one worker, and from the run's report the warping error (fine DIS flow)
of the steps around each seam against the interior's. With GPUs, --gpus-per-task fractions share one GPU
between several chunks (workers = 1 / fraction per GPU).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import MEDIA  # noqa: E402
from samples.motion_clips import motion_frames  # noqa: E402
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.distributed import RayOptions, RayRunner  # noqa: E402
from vidstyle.io.images import read_image, write_image  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--first-iterations", type=int, default=30)
    p.add_argument("--chunk-frames", type=int, default=16)
    p.add_argument("--overlap", type=int, default=4)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--gpus-per-task", type=float, nargs="*", default=[],
                   help="on a GPU machine: one run per fraction, workers = GPUs / fraction")
    args = p.parse_args()

    import ray
    import torch

    gpus = torch.cuda.device_count()
    ray.init(num_cpus=max(os.cpu_count() or 1, max(args.workers)), include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    runs = [(w, RayOptions(chunk_frames=args.chunk_frames, overlap=args.overlap, workers=w)) for w in args.workers]
    if gpus and args.gpus_per_task:
        runs = [(max(1, int(gpus / f)), RayOptions(chunk_frames=args.chunk_frames, overlap=args.overlap,
                                                   workers=max(1, int(gpus / f)), gpus_per_task=f))
                for f in args.gpus_per_task]
    print(f"# {os.cpu_count()} cores, {gpus} GPUs; {args.frames} frames at {args.size} px, preset fast, "
          f"{args.first_iterations}/{args.iterations} iterations, chunks of {args.chunk_frames}, overlap {args.overlap}")
    print("workers  gpus/task  wall s  frames/s  vs 1 worker  seam mean/interior  worst seam/interior median")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip"
        clip.mkdir()
        for i, f in enumerate(motion_frames("pan", read_image(MEDIA / "tubingen.jpg"), frames=args.frames,
                                            width=args.size, height=args.size * 3 // 4)):
            write_image(clip / f"f{i:03d}.png", f)
        base = None
        for workers, options in runs:
            report = Path(tmp) / f"r{workers}.json"
            config = Config(preset="fast", weights=args.weights, size=args.size, iterations=args.iterations,
                            first_iterations=args.first_iterations, quiet=True, seed=0, fps="24",
                            report=str(report), overwrite=True)
            start = time.perf_counter()
            stylize_video(clip, MEDIA / "starry_night.jpg", Path(tmp) / f"out{workers}", config,
                          runner=RayRunner(options))
            wall = time.perf_counter() - start
            seams = json.loads(report.read_text())["distributed"]["seams"]
            fps = args.frames / wall
            base = base or fps
            gpt = f"{options.gpus_per_task:g}" if gpus else "-"
            print(f"{workers:7d}  {gpt:>9}  {wall:6.1f}  {fps:8.3f}  {fps / base:11.2f}  "
                  f"{seams['mean_ratio']:18.2f}  {seams['max_to_median']:26.2f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
