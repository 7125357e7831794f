"""Warm start vs. none on a generated clip: seconds per frame and final losses.

    python benchmarks/bench_video.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth

The clip is a slow pan over a photo (../shared/media/tubingen.jpg when present, else a synthetic texture), so
consecutive frames are alike, as in real footage. Both modes get the same first-frame and per-frame budgets.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.images import read_image, resize_long_side, write_image  # noqa: E402

SHARED = REPO.parent / "shared"


def make_clip(folder: Path, frames: int, size: int) -> Path:
    """A frame directory panning ``frames`` pixels across a photo (or a smooth synthetic texture)."""
    photo = SHARED / "media" / "tubingen.jpg"
    if photo.is_file():
        base = resize_long_side(read_image(photo), size + 2 * frames)
    else:
        yy, xx = np.mgrid[0:size, 0:size + 2 * frames].astype(np.float32)
        base = np.stack([np.sin(xx / 7 + c) * np.cos(yy / 9 - c) for c in range(3)], -1)
        base = ((base * 0.4 + 0.5) * 255).clip(0, 255).astype(np.uint8)
    h = min(base.shape[0], size * 3 // 4)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        write_image(folder / f"frame{i}.png", np.ascontiguousarray(base[:h, 2 * i:2 * i + size]))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_weights = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"
    parser.add_argument("--weights", default=str(default_weights) if default_weights.is_file() else None)
    parser.add_argument("--style", default=str(SHARED / "media" / "starry_night.jpg"))
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--first-iterations", type=int, default=60)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    style = args.style if Path(args.style).is_file() else np.full((64, 64, 3), (30, 60, 160), np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip", args.frames, args.size)
        print(f"{args.frames} frames at {args.size}px, preset {args.preset}, first frame {args.first_iterations} "
              f"iterations, then {args.iterations}")
        print(f"{'mode':<6} {'s/frame':>8} {'mean total (frames 2..N)':>25} {'last content':>13} {'last style':>11}")
        for mode in ("none", "warm"):
            config = Config(preset=args.preset, weights=args.weights, size=args.size, iterations=args.iterations,
                            first_iterations=args.first_iterations, temporal=mode, device=args.device,
                            quiet=True, seed=0)
            report = stylize_video(clip, style, Path(tmp) / f"{mode}.mp4", config)
            rest = [f["losses"]["total"] for f in report["frames"][1:]]
            last = report["frames"][-1]["losses"]
            print(f"{mode:<6} {report['totals']['seconds_per_frame']:>8.3f} {np.mean(rest):>25.4g} "
                  f"{last['content']:>13.4g} {last['style']:>11.4g}")
        print(f"device: {report['device']}")


if __name__ == "__main__":
    main()
