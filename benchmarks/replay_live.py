"""Live mode replayed deterministically: the look a session would record, at a chosen update rate.

A real session's figures move with the machine's load (bench_live.py --clips). Here the same clip is replayed
on a fixed schedule instead: an update starts every ``--period`` camera frames on the newest one, from the
last result carried onto it (the worker's own ``carry`` and Stylizer, the live defaults), and is seen by the
display one period later, its first passes in between (as live mode shows every pass on CPU); every camera
frame is composed as the display does (``display.compose``), encoded like ``--record`` and measured against
the offline flow run of the same clip (live_look.compare: style and content kept, content floor).

    python benchmarks/replay_live.py --clips bikes-30,bikes-76 --periods 9,4.5,3 --cache DIR

The period in camera frames is the camera's fps over the session's updates per second (25 fps at 2.8
updates/s: about 9). Measure another checkout with ``PYTHONPATH=OTHER python benchmarks/replay_live.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_look import compare, decoded, parse_segment, prepared, shared_segments  # noqa: E402

MEDIA = Path(os.environ.get("VIDSTYLE_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "media"
WEIGHTS = MEDIA.parent / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"


def replay(frames: list[np.ndarray], fps: float, style: np.ndarray, period: float, weights: str,
           seed_cache: Path | None) -> list[np.ndarray]:
    """The frames a session with an update every ``period`` camera frames would show (see the docstring)."""
    import dataclasses

    from vidstyle.compose import resolve_engine
    from vidstyle.engine import load_settings_encoder, make_stylizer
    from vidstyle.io.camera import Frame
    from vidstyle.live.config import FIRST_ITERATIONS, FIRST_OPTIMIZER, live_engine_config
    from vidstyle.live.display import compose
    from vidstyle.live.worker import WORKER_FLOW, Stylized, carry
    from vidstyle.temporal.flow import FlowEstimator

    settings = resolve_engine(live_engine_config(size=max(frames[0].shape[:2]), weights=weights, quiet=True))
    encoder = load_settings_encoder(settings)
    stylizer = make_stylizer(settings, [style], reference=frames[0], encoder=encoder)
    camera = [Frame(i, image, i / fps) for i, image in enumerate(frames)]
    if seed_cache is not None and seed_cache.exists():
        painted = np.load(seed_cache)
    else:  # the painted first frame, as the session makes it before the display opens
        painter = make_stylizer(dataclasses.replace(settings, optimizer=FIRST_OPTIMIZER), [style],
                                reference=frames[0], encoder=encoder)
        painted = painter.stylize(frames[0], iterations=FIRST_ITERATIONS).image
        if seed_cache is not None:
            np.save(seed_cache, painted)
    latest = Stylized(painted, camera[0], 0, 0.0, 0.0)
    passes = settings.iterations
    seen: list[tuple[float, Stylized]] = [(0.0, latest)]  # (camera frame from which the display has it, picture)
    worker_flow, start = FlowEstimator(WORKER_FLOW), 0.0
    while start < len(frames):
        frame = camera[int(start)]
        init = latest.image if latest.frame.index == frame.index else carry(latest, frame.image, worker_flow)
        shown_passes: list[np.ndarray] = []

        def keep(iteration: int, _losses: dict[str, float]) -> None:
            image = stylizer.current_image() if iteration < passes else None
            if image is not None:
                shown_passes.append(image)

        result = stylizer.stylize(frame.image, init=init, iterations=passes, callback=keep, measure=False)
        for k, image in enumerate(shown_passes, 1):
            seen.append((start + period * k / passes, Stylized(image, frame, 0, 0.0, 0.0)))
        latest = Stylized(result.image, frame, 0, 0.0, 0.0)
        start += period
        seen.append((start, latest))
    display_flow = FlowEstimator("fast")
    return [compose(camera[i], [p for at, p in seen if at <= i][-1], display_flow) for i in range(len(frames))]


def recorded(shown: list[np.ndarray], fps: float, folder: Path) -> list[np.ndarray]:
    """The shown frames as ``--record`` writes them (the live defaults' encoding), decoded."""
    from vidstyle.config import Config
    from vidstyle.io.encode import VideoWriter

    path = folder / "replay.mp4"
    writer = VideoWriter(path, Fraction(fps).limit_denominator(1001), crf=Config().crf)
    for image in shown:
        writer.write(image)
    writer.close()
    return decoded(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=os.environ.get("VIDSTYLE_WEIGHTS") or str(WEIGHTS))
    ap.add_argument("--clips", default="bikes-30", help="shared clips: " + ", ".join(shared_segments(MEDIA)))
    ap.add_argument("--external", nargs="+", action="extend", default=[], help="more real footage: PATH[:START-STOP]")
    ap.add_argument("--periods", default="9", help="camera frames per update, comma-separated")
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--cache", help="keep cut clips, offline runs and painted first frames here")
    args = ap.parse_args()

    from vidstyle.io.images import read_image
    from vidstyle.metrics.look import LookMeter

    style_path = MEDIA / "starry_night.jpg"
    style = read_image(style_path)
    meter = LookMeter(style, weights=args.weights)
    segments = shared_segments(MEDIA)
    chosen = [segments[c] for c in args.clips.split(",") if c] + [parse_segment(e) for e in args.external]
    print(f"{args.size} px, live defaults replayed vs offline flow 8 (40) passes; kept = live / offline, median "
          "after the first third; floor = worst frame after the first second")
    print("| clip | period (frames/update) | style kept | content kept | content floor | first frame style |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache or tmp)
        cache.mkdir(parents=True, exist_ok=True)
        for segment in chosen:
            _, fps, frames, off = prepared(segment, cache, style_path, args.size, args.weights)
            for period in (float(p) for p in args.periods.split(",")):
                shown = replay(frames, fps, style, period, args.weights,
                               cache / f"{segment.name}-painted-{args.size}.npy")
                res = compare(meter, frames, recorded(shown, fps, Path(tmp)), list(range(len(frames))), off, fps)
                print(f"| {segment.name} | {period:g} | {res['style_kept']:.2f} | {res['content_kept']:.2f} | "
                      f"{res['content_floor']:.2f} | {res['first_style']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
