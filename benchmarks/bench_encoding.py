"""What the video encoder does to a stylized shot: warping error and look of the frames as written, per setting.

    python benchmarks/bench_encoding.py --weights ../shared/weights/vgg19-caffe-conv1_1-conv3_4.pth

Stylizes the camera-like clips of bench_stability.py (flow mode, --size 160, 8 passes a frame, 40 for frame 0)
into a folder of PNG frames -- the pipeline's output before any encoder --, then encodes that folder with
libx264 at each setting, decodes it and prints, per clip, what bench_stability.py measures (warping error x the
input's own, share of frame 0's style strength and content fidelity kept at frame 39) and the file size.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from common import add_media_arguments  # noqa: E402

from bench_stability import measure  # noqa: E402
from samples.realistic_clips import REALISTIC_KINDS, make_realistic_clip  # noqa: E402
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.frames import iter_frame_dir  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.io.video_files import ffmpeg_exe, iter_video_frames  # noqa: E402
from vidstyle.metrics.look import LookMeter  # noqa: E402

SETTINGS = {  # name -> libx264 arguments after -c:v libx264 -preset medium
    "crf 18": ["-crf", "18"],
    "crf 18 tune film": ["-crf", "18", "-tune", "film"],
    "crf 14": ["-crf", "14"],
    "crf 12": ["-crf", "12"],
    "crf 18 tune grain (default)": ["-crf", "18", "-tune", "grain"],
    "crf 16 tune grain": ["-crf", "16", "-tune", "grain"],
    "crf 14 tune grain": ["-crf", "14", "-tune", "grain"],
}


def encode(frames: Path, out: Path, settings: list[str], fps: int = 30) -> None:
    """Encode the PNG folder ``frames`` (frame_%06d.png, numbered from 1) with libx264 and ``settings``."""
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-framerate", str(fps), "-start_number", "1",
                    "-i", str(frames / "frame_%06d.png"), "-c:v", "libx264", "-preset", "medium", *settings,
                    "-pix_fmt", "yuv420p", str(out)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_arguments(parser)
    parser.add_argument("--clips", default=",".join(REALISTIC_KINDS))
    parser.add_argument("--settings", default=",".join(SETTINGS), help="names from SETTINGS, comma-separated")
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = Config(preset="fast", weights=args.weights, size=args.size, iterations=8, first_iterations=40,
                    temporal="flow", quiet=True, seed=0)
    scene, sprite = read_image(args.scene), read_image(args.sprite)
    meter = LookMeter(read_image(args.style), weights=args.weights)
    print("| clip | written as | warping error x input's | style kept @39 | content kept @39 | bytes |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for kind in args.clips.split(","):
            clip = make_realistic_clip(kind, root / f"{kind}.mp4", scene, sprite=sprite)
            frames = root / f"{kind}_frames"
            stylize_video(clip, args.style, frames, config)
            rows = [("PNG frames (no encoder)", measure(iter_frame_dir(frames), clip, args.size, meter), "")]
            for name in args.settings.split(","):
                out = root / f"{kind}_{len(rows)}.mp4"
                encode(frames, out, SETTINGS[name])
                rows.append((name, measure(iter_video_frames(out), clip, args.size, meter), out.stat().st_size))
            for name, res, size in rows:
                print(f"| {kind} | {name} | {res['ratio']:.2f} | {res['style_kept']:.2f} | "
                      f"{res['content_kept']:.2f} | {size} |", flush=True)


if __name__ == "__main__":
    main()
