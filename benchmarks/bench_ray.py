"""Distributed runs on Ray: throughput with 1, 2 and 4 workers, and the seam quality of the chunked output.

    python benchmarks/bench_ray.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth
    python benchmarks/bench_ray.py --gpus-per-task 1 0.5 0.25   # on a GPU machine: 1, 2, 4 chunks per GPU

A pan over tubingen.jpg (samples/motion_clips) as a frame folder, stylized with --ray on a local Ray.
Per worker count: wall seconds of the distributed run (Ray start excluded: one Ray for all runs), frames/s
of output frames, the ratio to one worker, and from the run's report the warping error (fine DIS flow)
of the steps around each seam against the interior's. With GPUs, --gpus-per-task fractions share one GPU
between several chunks (workers = 1 / fraction per GPU).

--seam-case runs issue 33's seam case instead, through the command line, so any checkout's code can run it:

    python benchmarks/bench_ray.py --seam-case --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth
    python benchmarks/bench_ray.py --seam-case --code /tmp/bisect-96890ba --phases 0 1 2 3 --clips /tmp/clips \
        --weights ...   # an older commit's code (a git worktree), four clips kept for a run under another OpenCV

It writes pan.mp4 (48 frames of samples/motion_clips' pan over tubingen.jpg, 160x120, 12 fps, H.264; --clip
shift160: exactly 3 px right a frame) and runs ``vidstyle pan.mp4 the_scream.jpg out.mp4 --ray --chunk-frames 16
--overlap 4 --size 96 --first-iterations 20 --iterations 6 --preset fast --weights W --device cpu`` with
``PYTHONPATH=CODE`` (default: this checkout) in CODE as the current folder (Ray's workers import from there
too). The output is then measured by THIS checkout's metrics whatever CODE is (one definition across commits):
the warping error (fine DIS flow from pan.mp4 at the output's size) of the seam steps (each cross-fade and the
step after it, the plan of ``plan_chunks(48, 16, 4)``) against the interior's; the run's own report figure is
printed beside it. --case test runs tests/distributed/test_ray.py's seam case the same way. Runs are
deterministic, but the figure moves by up to ~0.15 (up to 0.48 on older code) when the pan starts a frame or
three later (--phases): compare means over phases. Figures: docs/distributed.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
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


SEAM_PLAN = dict(total=48, chunk_frames=16, overlap=4)
SEAM_CASES = {  # name: (clip, style, options after --ray --chunk-frames 16 --overlap 4)
    # issue 33: a 48-frame pan over tubingen.jpg at 160x120, 12 fps, H.264, written as out.mp4
    "issue33": ("pan160", "the_scream.jpg", ["--size", "96", "--first-iterations", "20", "--iterations", "6"]),
    # tests/distributed/test_ray.py's seam test through the command line: the 40x30 pan as PNG frames
    "test": ("pan40", "starry_night.jpg", ["--size", "40", "--first-iterations", "12", "--iterations", "4",
                                           "--seed", "0", "--fps", "24"]),
}


def seam_clip(directory: Path, kind: str, phase: int = 0) -> Path:
    """A 48-frame pan over tubingen.jpg, starting ``phase`` frames into it. ``pan160``: samples/motion_clips'
    pan (2.5 px right and 0.75 px down a frame) at 160x120 as pan.mp4 (12 fps, H.264 as samples/make_samples.py
    writes it); ``shift160``: exactly 3 px right a frame, otherwise the same; ``pan40``: the motion_clips pan at
    40x30 as a PNG frame folder (the seam test's clip). The frames depend on OpenCV's version (motion_clips'
    warpAffine: 5.1 differs from 4.14 by up to 179 levels where the pan reaches the mirrored border), so
    --clips keeps them for runs under another OpenCV."""
    import cv2
    import numpy as np
    from samples.make_samples import write_mp4

    n = SEAM_PLAN["total"]
    photo = read_image(MEDIA / "tubingen.jpg")
    if kind == "pan40":
        clip = directory / "pan40"
        clip.mkdir()
        frames = list(motion_frames("pan", photo, frames=n + phase, width=40, height=30))[phase:]
        for i, f in enumerate(frames):
            write_image(clip / f"f{i:03d}.png", f)
        return clip
    if kind == "pan160":
        frames = list(motion_frames("pan", photo, frames=n + phase, width=160, height=120))[phase:]
    else:
        img = cv2.resize(photo, (320, round(photo.shape[0] * 320 / photo.shape[1])), interpolation=cv2.INTER_AREA)
        y = (img.shape[0] - 120) // 2  # 320 x 240: room for the 141 px of travel (phase <= 3)
        frames = [np.ascontiguousarray(img[y:y + 120, 8 + 3 * t:168 + 3 * t]) for t in range(phase, n + phase)]
    write_mp4(directory / "pan.mp4", frames, fps=12)
    return directory / "pan.mp4"


def cached_clip(cache: Path | None, tmp: Path, kind: str, phase: int) -> Path:
    """The clip from ``cache`` (made there on first use), or a fresh one in ``tmp``."""
    folder = (cache if cache is not None else tmp) / f"{kind}-{phase}"
    found = [p for p in (folder / "pan40", folder / "pan.mp4") if p.exists()]
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    return seam_clip(folder, kind, phase)


def measure_seams(output: Path, clip: Path) -> dict:
    """This checkout's seam figures of ``output`` (a video or frame folder) against ``clip``: the warping
    error (vidstyle metrics' fine flow) of the seam steps against the interior's, plan_chunks(48, 16, 4)."""
    from vidstyle.cli.metrics import METRIC_FLOW_QUALITY, iter_clip
    from vidstyle.distributed.chunks import plan_chunks
    from vidstyle.metrics.seams import seam_figures
    from vidstyle.metrics.warping import warping_error

    fps = "24" if clip.is_dir() else None
    result = warping_error(iter_clip(output, fps=fps), iter_clip(clip, fps=fps), quality=METRIC_FLOW_QUALITY)
    return seam_figures(result.per_frame, plan_chunks(**SEAM_PLAN), result.shot_changes)


def seam_case(args: argparse.Namespace) -> None:
    """Run a seam case once per phase (``args.runs`` times each) with the code in ``args.code``; print its
    seam figures and their mean over the phases."""
    import cv2
    import numpy as np
    clip_kind, style, options = SEAM_CASES[args.case]
    if args.clip:
        clip_kind = args.clip
    code = Path(args.code).resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), *filter(None, [os.environ.get("PYTHONPATH")])])}
    who = subprocess.run([sys.executable, "-c", "import vidstyle, cv2; print(vidstyle.__file__, cv2.__version__)"],
                         env=env, cwd=code, capture_output=True, text=True, check=True).stdout.strip()
    print(f"# case {args.case} ({clip_kind}); code {who}; metric: this checkout, OpenCV {cv2.__version__}; "
          f"clips {args.clips or 'made now'}")
    print("phase run  wall s  seam mean/interior  worst seam/interior median  (run's report: mean, worst)")
    means, worsts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for phase in args.phases:
            clip = cached_clip(Path(args.clips) if args.clips else None, Path(tmp), clip_kind, phase)
            for i in range(args.runs):
                out = Path(tmp) / f"out{phase}-{i}{'' if clip.is_dir() or args.frames_out else '.mp4'}"
                report = Path(tmp) / f"r{phase}-{i}.json"
                cmd = [sys.executable, "-m", "vidstyle", str(clip), str(MEDIA / style), str(out), "--ray",
                       "--chunk-frames", str(SEAM_PLAN["chunk_frames"]), "--overlap", str(SEAM_PLAN["overlap"]),
                       *options, "--preset", "fast", "--device", "cpu", "--weights",
                       str(Path(args.weights).resolve()), "--report", str(report), "--quiet", *args.extra]
                start = time.perf_counter()
                subprocess.run(cmd, env=env, cwd=code, check=True)
                wall = time.perf_counter() - start
                ours = measure_seams(out, clip)
                theirs = json.loads(report.read_text()).get("distributed", {}).get("seams", {})
                means.append(ours["mean_ratio"])
                worsts.append(ours["max_to_median"])
                print(f"{phase:5d} {i:3d}  {wall:6.1f}  {ours['mean_ratio']:18.3f}  {ours['max_to_median']:26.2f}  "
                      f"({theirs.get('mean_ratio', float('nan')):.3f}, {theirs.get('max_to_median', float('nan')):.2f})"
                      f"  per seam {[round(s['mean'] / ours['interior_mean'], 3) for s in ours['per_seam']]}",
                      flush=True)
                if args.keep:
                    keep = Path(args.keep) / f"{phase}-{i}"
                    keep.mkdir(parents=True, exist_ok=True)
                    subprocess.run(["cp", "-r", str(out), str(report), str(clip), str(keep)], check=True)
    print(f"mean over {len(means)}: seam mean/interior {np.mean(means):.3f} (min {min(means):.3f}, max "
          f"{max(means):.3f}), worst seam/interior median {np.mean(worsts):.2f} (max {max(worsts):.2f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--seam-case", action="store_true", help="issue 33's seam case through the command line")
    p.add_argument("--code", default=str(REPO), help="--seam-case: the checkout whose vidstyle runs it")
    p.add_argument("--case", choices=sorted(SEAM_CASES), default="issue33", help="--seam-case: which one")
    p.add_argument("--clip", choices=["pan160", "shift160", "pan40"], default=None, help="--seam-case: another clip")
    p.add_argument("--phases", type=int, nargs="+", default=[0],
                   help="--seam-case: start the pan this many frames later (one run each; the figure moves by "
                        "~0.1 between phases, so compare means over several)")
    p.add_argument("--clips", default=None, help="--seam-case: keep and reuse the clips in this folder (the same "
                                                  "input under either OpenCV)")
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="--seam-case: more vidstyle options")
    p.add_argument("--runs", type=int, default=1, help="--seam-case: runs (to see the run-to-run noise)")
    p.add_argument("--frames-out", action="store_true", help="--seam-case: write a frame folder, not out.mp4")
    p.add_argument("--keep", default=None, help="--seam-case: copy the clip, outputs and reports here")
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
    if args.seam_case:
        seam_case(args)
        return

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
