"""What the video encoder does to a stylized clip: warping error and look of the frames as written, per setting.

    python benchmarks/bench_encoding.py --threads 1 --clips bikes --settings 256:20:60
    python benchmarks/bench_encoding.py --threads 1 --clips still,handheld,pan --settings 160:8:40

Stylizes each clip (the real clips of bench_stability.py, bikes and bunny, or its generated camera-like ones;
flow mode, fast preset) into a folder of PNG frames -- the pipeline's output before any encoder --, then
encodes that folder with libx264 at each setting, decodes it as the package decodes, and prints per shot what
bench_stability.py measures (warping error x the input's own, for the shot and for the whole clip; style and
content kept relative to the shot's first frame, mean of its last 10 frames / worst frame) and the file size.
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

from bench_stability import REAL_CLIPS, clip_path, measure  # noqa: E402
from samples.realistic_clips import REALISTIC_KINDS  # noqa: E402
from vidstyle import Config, stylize_video  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.io.video_files import ffmpeg_exe  # noqa: E402
from vidstyle.metrics.look import LookMeter  # noqa: E402

ENCODINGS = {  # name -> libx264 arguments after -c:v libx264 -preset medium (a later -preset wins)
    "crf 18": ["-crf", "18"],
    "crf 18 tune film": ["-crf", "18", "-tune", "film"],
    "crf 14": ["-crf", "14"],
    "crf 12": ["-crf", "12"],
    "crf 18 tune grain (default)": ["-crf", "18", "-tune", "grain"],
    "crf 16 tune grain": ["-crf", "16", "-tune", "grain"],
    "crf 14 tune grain": ["-crf", "14", "-tune", "grain"],
    "crf 12 tune grain": ["-crf", "12", "-tune", "grain"],
    "crf 18 tune grain aq-mode 0": ["-crf", "18", "-tune", "grain", "-aq-mode", "0"],
    "crf 18 tune grain preset slower": ["-crf", "18", "-tune", "grain", "-preset", "slower"],
}
DEFAULT_ENCODINGS = ("crf 18 tune grain (default),crf 16 tune grain,crf 14 tune grain,crf 12 tune grain,"
                     "crf 18 tune film,crf 18 tune grain aq-mode 0,crf 18 tune grain preset slower")


def encode(frames: Path, out: Path, settings: list[str], fps: int = 25) -> None:
    """Encode the PNG folder ``frames`` (frame_%06d.png, numbered from 1) with libx264 and ``settings``."""
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-framerate", str(fps), "-start_number", "1",
                    "-i", str(frames / "frame_%06d.png"), "-c:v", "libx264", "-preset", "medium", *settings,
                    "-pix_fmt", "yuv420p", str(out)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_media_arguments(parser)
    parser.add_argument("--clips", default=",".join(REAL_CLIPS),
                        help=f"of {', '.join([*REAL_CLIPS, *REALISTIC_KINDS])}")
    parser.add_argument("--settings", default="160:8:40", help="SIZE:PASSES:FIRST_PASSES, comma-separated")
    parser.add_argument("--encodings", default=DEFAULT_ENCODINGS, help="names from ENCODINGS, comma-separated")
    parser.add_argument("--frames", type=int, default=0, help="use at most N frames of each clip (exploring)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    meter = LookMeter(read_image(args.style), weights=args.weights)
    print("| clip | size, passes | written as | shot | warping error x input's (clip) | style kept mean / worst | "
          "content kept mean / worst | bytes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in args.clips.split(","):
            clip, count = clip_path(name, root, args)
            for size, passes, first in (tuple(int(v) for v in s.split(":")) for s in args.settings.split(",")):
                config = Config(preset="fast", weights=args.weights, size=size, iterations=passes,
                                first_iterations=first, temporal="flow", quiet=True, seed=0, max_frames=count)
                frames = root / f"{name}_{size}_frames"
                stylize_video(clip, args.style, frames, config)
                rows = [("PNG frames (no encoder)", measure(frames, clip, count, meter), "")]
                for encoding in args.encodings.split(","):
                    out = root / f"{name}_{size}_{len(rows)}.mp4"
                    encode(frames, out, ENCODINGS[encoding])
                    rows.append((encoding, measure(out, clip, count, meter), out.stat().st_size))
                for written, res, nbytes in rows:
                    for shot in res["shots"]:
                        print(f"| {name} | {size} px, {passes} ({first}) | {written} | "
                              f"{shot['start']}-{shot['stop'] - 1} | "
                              f"{shot['warping_ratio']:.2f} ({res['ratio']:.2f}) | "
                              f"{shot['style_kept_mean']:.2f} / "
                              f"{shot['style_kept_worst']:.2f} | {shot['content_kept_mean']:.2f} / "
                              f"{shot['content_kept_worst']:.2f} | {nbytes} |", flush=True)


if __name__ == "__main__":
    main()
