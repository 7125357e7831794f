"""The look of a live recording against an offline flow run of the same real clip (bench_live.py --clips).

A clip (a shot of a real video, cut into its own file at its own size and frame rate, x264 lossless) plays as
the file camera of a headless ``vidstyle live --record`` session with the live defaults; the same file is
stylized offline (``--temporal flow``, 8 passes a frame, 40 for the first, the same size). Both written
videos are decoded and measured frame by frame against the camera's frames under one fixed network
(vidstyle/metrics/look.py): style strength and content fidelity. The figures the live preview is judged on:

* style / content kept: median over the frames after the first third of live's figure over offline's for the
  same camera frame (acceptance >= 0.7 each);
* content floor: the lowest per-frame live/offline content fidelity after the first second (>= 0.5);
* first frame: live's first shown frame's style strength over offline's first frame's (>= 0.5);
* display fps, updates per second and mean latency of the session.

The live session runs in a child process so that another checkout's code (``--code``) can be measured in
the same run on the same machine; the child notes which camera frame every shown frame was made for.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Segment:
    """Frames ``start`` .. ``stop`` - 1 of ``source``, played as a camera under ``name``."""

    name: str
    source: Path
    start: int
    stop: int | None


def shared_segments(media: Path) -> dict[str, Segment]:
    """The moving shots of the shared real clips (bikes.mp4's cuts at 30, 76, 137, 187, 242)."""
    bikes, bunny = media / "bikes.mp4", media / "bigbuckbunny.mp4"
    return {"bikes-30": Segment("bikes-30", bikes, 30, 76), "bikes-76": Segment("bikes-76", bikes, 76, 137),
            "bikes-137": Segment("bikes-137", bikes, 137, 187), "bikes-187": Segment("bikes-187", bikes, 187, 242),
            "bunny": Segment("bunny", bunny, 0, None)}


def parse_segment(text: str) -> Segment:
    """``PATH`` or ``PATH:START-STOP`` (frame numbers) of real footage outside the repository."""
    path, _, span = text.partition(":")
    start, _, stop = span.partition("-")
    return Segment(Path(path).stem + (f"-{start}" if start else ""), Path(path), int(start or 0),
                   int(stop) if stop else None)


def cut(segment: Segment, folder: Path) -> tuple[Path, float]:
    """Write the segment's frames into their own file (lossless x264, the source's rate); (path, fps)."""
    from vidstyle.io.encode import VideoWriter

    out = folder / f"{segment.name}.mp4"
    cap = cv2.VideoCapture(str(segment.source))
    fps = cap.get(cv2.CAP_PROP_FPS)
    if out.exists():
        return out, fps
    from fractions import Fraction

    writer = VideoWriter(out, Fraction(fps).limit_denominator(1001), crf=0)
    index = 0
    while True:
        ok, bgr = cap.read()
        if not ok or (segment.stop is not None and index >= segment.stop):
            break
        if index >= segment.start:
            writer.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        index += 1
    writer.close()
    return out, fps


def camera_frames(clip: Path, size: int) -> list[np.ndarray]:
    """The clip's frames as the file camera delivers them (io/camera.py: RGB, long side ``size``, even)."""
    from vidstyle.io.images import resize_long_side

    cap, frames = cv2.VideoCapture(str(clip)), []
    while True:
        ok, bgr = cap.read()
        if not ok:
            return frames
        frames.append(resize_long_side(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size, even=True))


def decoded(video: Path) -> list[np.ndarray]:
    from vidstyle.io.video_files import iter_video_frames

    return list(iter_video_frames(video))


def offline(clip: Path, style: Path, out: Path, size: int, weights: str | None) -> Path:
    """The offline flow run the live preview is compared with (made once, kept in the cache folder)."""
    if not out.exists():
        from vidstyle import Config, stylize_video

        config = Config(preset="fast", weights=weights, size=size, iterations=8, first_iterations=40,
                        temporal="flow", quiet=True, overwrite=True, audio=False, seed=0)
        stylize_video(clip, str(style), out, config)
    return out


def prepared(segment: Segment, cache: Path, style: Path, size: int,
             weights: str | None) -> tuple[Path, float, list[np.ndarray], list[np.ndarray]]:
    """A segment ready to compare with: its cut clip, fps, camera frames and the offline run's frames
    (the clip and the offline run kept in ``cache``)."""
    clip, fps = cut(segment, cache)
    off = decoded(offline(clip, style, cache / f"{segment.name}-offline-{size}.mp4", size, weights))
    return clip, fps, camera_frames(clip, size), off


def run_live_child(code: str, clip: Path, style: Path, record: Path, size: int, weights: str | None,
                   extra: dict[str, object]) -> dict[str, object]:
    """One headless live session with ``code``'s vidstyle in a child process; its figures and shown frames."""
    job = {"clip": str(clip), "style": str(style), "record": str(record), "size": size, "weights": weights,
           "extra": extra}
    env = {**os.environ, "PYTHONPATH": code}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), json.dumps(job)], env=env,
                          capture_output=True, text=True, cwd=code)
    if proc.returncode != 0:
        raise SystemExit(f"live child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child(job: dict) -> None:
    """The child: run the session, noting the camera frame index behind every shown (recorded) frame."""
    from vidstyle.live import run_live, session
    from vidstyle.live.config import LiveConfig, live_engine_config

    shown: list[int] = []
    original = session._Session.show

    def show(self, frame):  # noqa: ANN001, ANN202 - observes only
        shown.append(frame.index)
        return original(self, frame)

    session._Session.show = show
    engine = live_engine_config(size=job["size"], weights=job["weights"], quiet=True, overwrite=True,
                                **job["extra"])
    summary = run_live([job["style"]], LiveConfig(engine=engine, camera=job["clip"], window=False,
                                                  record=job["record"]))
    print(json.dumps({"shown": shown, "display_fps": summary.display_fps, "updates": summary.updates,
                      "updates_per_second": summary.updates_per_second, "latency_ms": summary.latency_ms_mean,
                      "startup_seconds": summary.startup_seconds, "camera_frames": summary.camera_frames,
                      "load": os.getloadavg()[0]}))


def compare(meter, frames: list[np.ndarray], live: list[np.ndarray], shown: list[int],  # noqa: ANN001
            off: list[np.ndarray], fps: float) -> dict[str, float]:
    """The figures of one live recording against the offline run (see the module docstring)."""
    if len(live) != len(shown):
        raise SystemExit(f"recording has {len(live)} frames, {len(shown)} were shown")
    cache: dict[int, tuple[float, float]] = {}

    def offline_look(i: int) -> tuple[float, float]:
        if i not in cache:
            look = meter.measure(off[i], frames[i])
            cache[i] = (look.style_strength, look.content_fidelity)
        return cache[i]

    rows = []
    for k, (image, i) in enumerate(zip(live, shown)):
        look = meter.measure(image, frames[i])
        o_style, o_content = offline_look(i)
        rows.append((i, look.style_strength, look.content_fidelity, o_style, o_content))
    arr = np.array(rows)
    late = arr[arr[:, 0] >= len(frames) / 3]
    after_second = arr[arr[:, 0] >= fps]
    return {"frames": len(frames), "shown": len(shown),
            "live_style": float(np.median(late[:, 1])), "live_content": float(np.median(late[:, 2])),
            "offline_style": float(np.median(late[:, 3])), "offline_content": float(np.median(late[:, 4])),
            "style_kept": float(np.median(late[:, 1] / late[:, 3])),
            "content_kept": float(np.median(late[:, 2] / late[:, 4])),
            "content_floor": float(np.min(after_second[:, 2] / after_second[:, 4])) if len(after_second) else
            float("nan"),
            "first_style": float(arr[0, 1] / offline_look(0)[0]),
            "per_frame": [[int(r[0]), round(float(r[1]), 3), round(float(r[2]), 3), round(float(r[3]), 3),
                           round(float(r[4]), 3)] for r in rows]}


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
