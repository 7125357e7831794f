"""Live mode: a stylized camera preview at camera rate (``vidstyle live``).

Three threads: the camera's capture thread keeps only the newest frame (io/camera.py); the stylization worker
optimises continuously, a few passes per update, each update starting from its last result carried onto the
newest frame (worker.py); the display loop here runs in the main thread at camera rate and shows the
newest result carried along the optical flow onto the current frame (display.compose,
temporal/carry.carried). The first frame is painted before the display opens (``first_iterations``).
``--record`` gets exactly the frames shown, at the processing size. The session ends on q/Esc, Ctrl-C, a
closed window, --max-frames, the end of a file camera or a lost camera; every one of them finishes the
recording and prints the figures.
"""
from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from ..compose import resolve_engine
from ..engine import Stylizer, load_settings_encoder, make_stylizer
from ..io.images import ImageLike, load_rgb
from ..errors import SignalStop, VidstyleError
from ..io.atomic import check_output_path, clean_stale_temps
from ..io.camera import Camera, Frame, open_camera
from ..io.encode import VideoWriter
from ..io.path_registry import Target, check_run_paths
from ..io.checkpoint_files import local_weights_path
from ..io.images import write_image
from ..temporal.flow import FlowEstimator, check_flow_size
from ..progress.bars import iteration_progress
from .config import FIRST_OPTIMIZER, LiveConfig, shows_passes
from .display import WindowView, check_display, compose, window_image
from .keys import (
    HELP,
    NEXT_STYLE,
    ORIGINAL,
    OVERLAY,
    PAUSE,
    PREV_STYLE,
    QUIT_KEYS,
    SNAPSHOT,
    WEIGHT_DOWN,
    WEIGHT_STEP,
    WEIGHT_UP,
    KeySource,
    LiveStatus,
    key_name,
    poll_all,
)
from .summary import LiveSummary, camera_size, write_live_report
from .worker import StyleWorker, Stylized


def say(text: str) -> None:
    """One line for the user on stderr."""
    sys.stderr.write(f"vidstyle live: {text}\n")
    sys.stderr.flush()


class _Session:
    """State of the display loop (main thread)."""

    def __init__(self, config: LiveConfig, names: list[str], worker: StyleWorker, camera: Camera,
                 view: WindowView | None, recorder: VideoWriter | None, keys: Sequence[KeySource]) -> None:
        self.config, self.names, self.worker, self.camera = config, names, worker, camera
        self.view, self.recorder = view, recorder
        self.keys = ([view] if view is not None else []) + list(keys)
        self.flow = FlowEstimator(config.flow_quality)
        self.frames_shown = 0
        self.first_shown: float | None = None
        self.shown_times: deque[float] = deque(maxlen=240)
        self.last_frame: Frame | None = None
        self.last_shown: np.ndarray | None = None
        self.style, self.weight_scale = 0, 1.0
        self.paused = self.side_by_side = self.overlay = False
        self.snapshots: list[str] = []
        self.stop_reason = ""

    def status(self) -> LiveStatus:
        now = time.perf_counter()
        recent = [t for t in self.shown_times if now - t <= 2.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0
        finished = [t for t in self.worker.finish_times[-64:] if now - t <= 5.0]
        ups = len(finished) / min(5.0, now - self.first_shown) if finished and self.first_shown else 0.0
        latest = self.worker.latest()
        by_style = tuple(self.worker.updates_by_style.get(i, 0) for i in range(len(self.names)))
        return LiveStatus(self.frames_shown, self.worker.updates, by_style, self.style, self.names[self.style],
                          self.weight_scale, self.paused, self.side_by_side, self.overlay, fps, ups,
                          1000 * latest.latency if latest else 0.0, tuple(self.snapshots),
                          now - self.first_shown if self.first_shown else 0.0)

    # --- keys -------------------------------------------------------------------------------------------
    def handle(self, key: int) -> None:
        if key in QUIT_KEYS:
            self.stop_reason = f"{key_name(key)} pressed"
        elif key == PAUSE:
            self.paused = not self.paused
            self.worker.set_paused(self.paused)
            self.camera.pause(self.paused)
        elif key == SNAPSHOT:
            self.snapshot()
        elif key in (NEXT_STYLE, PREV_STYLE):
            self.style = (self.style + (1 if key == NEXT_STYLE else -1)) % len(self.names)
            self.worker.set_style(self.style)
            say(f"style {self.style + 1}/{len(self.names)}: {self.names[self.style]}")
        elif key in WEIGHT_UP or key in WEIGHT_DOWN:
            self.weight_scale *= WEIGHT_STEP if key in WEIGHT_UP else 1 / WEIGHT_STEP
            self.worker.set_weight_scale(self.weight_scale)
            say(f"style weight x{self.weight_scale:g}")
        elif key == ORIGINAL:
            self.side_by_side = not self.side_by_side
        elif key == OVERLAY:
            self.overlay = not self.overlay

    def snapshot(self) -> None:
        if self.last_shown is None:
            say("nothing shown yet: no snapshot")
            return
        folder = Path(self.config.snapshot_dir)
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
        path = folder / f"vidstyle-live-{stamp}.png"
        n = 1
        while path.exists():
            path, n = folder / f"vidstyle-live-{stamp}-{n}.png", n + 1
        write_image(path, self.last_shown)
        self.snapshots.append(str(path))
        say(f"snapshot {path}")

    # --- the loop ---------------------------------------------------------------------------------------
    def show(self, frame: Frame) -> None:
        shown = compose(frame, self.worker.picture(), self.flow)
        if self.recorder is not None:
            self.recorder.write(shown)
        if self.view is not None:
            self.view.show(window_image(shown, frame.image if self.side_by_side else None,
                                        self.status() if self.overlay else None, self.config.window_size))
        now = time.perf_counter()
        self.first_shown = self.first_shown or now
        self.shown_times.append(now)
        self.frames_shown += 1
        self.last_frame, self.last_shown = frame, shown

    def run(self) -> None:
        limit = self.config.max_frames
        while not self.stop_reason:
            if limit is not None and self.frames_shown >= limit:
                self.stop_reason = f"{limit} frames shown (--max-frames)"
                break
            if self.worker.error is not None:
                raise self.worker.error
            frame = None if self.paused else self.camera.wait_newer(
                self.last_frame.index if self.last_frame else -1, 0.005 if self.view else 0.05)
            if frame is not None:
                self.show(frame)
            elif self.camera.finished and not self.paused:
                state = self.camera.state
                self.stop_reason = ("end of the video file" if state == "ended" else
                                    f"camera {self.camera.name!r} lost" if state == "lost" else "camera stopped")
                break
            elif self.paused:
                time.sleep(0.02)
            for key in poll_all(self.keys, self.status()) if self.keys else ():
                self.handle(key)
                if self.stop_reason:
                    break
            if not self.stop_reason and self.view is not None and self.view.closed():
                self.stop_reason = "window closed"

    def summary(self, started: float, end: float) -> LiveSummary:
        seconds = end - self.first_shown if self.first_shown else 0.0
        span = self.shown_times[-1] - self.first_shown if self.first_shown and self.frames_shown > 1 else 0.0
        lat = [1000 * x for x in self.worker.latencies]
        return LiveSummary(
            frames_shown=self.frames_shown, seconds=seconds,
            startup_seconds=self.first_shown - started if self.first_shown else None,
            display_fps=(self.frames_shown - 1) / span if span > 0 else 0.0, updates=self.worker.updates,
            updates_per_second=self.worker.updates / seconds if seconds > 0 else 0.0,
            latency_ms_mean=statistics.fmean(lat) if lat else None,
            latency_ms_median=statistics.median(lat) if lat else None, latency_ms_max=max(lat) if lat else None,
            updates_by_style={self.names[i]: n for i, n in sorted(self.worker.updates_by_style.items())},
            camera_frames=self.camera.captured, stop_reason=self.stop_reason,
            recorded_frames=self.recorder.frames if self.recorder else 0,
            record=str(self.config.record) if self.config.record else None, snapshots=list(self.snapshots))


def _style_names(styles: Sequence[ImageLike]) -> list[str]:
    return [Path(s).stem if not isinstance(s, np.ndarray) else f"style{i + 1}" for i, s in enumerate(styles)]


def _check_outputs(config: LiveConfig, styles: Sequence[ImageLike]) -> None:
    overwrite = config.engine.overwrite
    reads = [("STYLE", Path(s)) for s in styles if not isinstance(s, np.ndarray)]
    if Path(str(config.camera)).is_file():  # a video file played as the camera (not a device node)
        reads.append(("--camera", Path(str(config.camera))))
    if config.engine.init_is_file():
        reads.append(("--init", Path(config.engine.init)))
    weights = local_weights_path(config.engine.weights)
    if weights is not None:
        reads.append(("--weights", weights))
    check_run_paths(reads, [Target(option, Path(path)) for option, path in
                            (("--record", config.record), ("--report", config.report)) if path])
    if config.engine.resolved_photo_weight() > 0 or config.engine.content_mask or config.engine.style_mask:
        raise VidstyleError("live mode does not support --photo-weight, the photo preset or masks; "
                            "use them with images, videos or frame folders")
    for path in (config.record, config.report):
        if path:
            check_output_path(path, overwrite)
            # the temporary recording or report of a live run that was killed (its process is gone)
            clean_stale_temps(Path(path).parent, Path(path).name)
    if config.record:
        VideoWriter(config.record, 25)  # validates the container early (no process is started)
    folder = Path(config.snapshot_dir)
    if not folder.is_dir():
        raise VidstyleError(f"snapshot folder {folder} " + ("is a file" if folder.exists() else "does not exist"))


def run_live(styles: Sequence[ImageLike], config: LiveConfig | None = None, *,
             keys: Sequence[KeySource] = (), camera: Camera | None = None) -> LiveSummary:
    """Run a live session until it ends (see the module docstring); returns its figures.

    ``styles``: paths or RGB arrays, cycled with n/p. ``keys``: extra key sources (tests, scripts).
    ``camera``: an already opened Camera instead of ``config.camera`` (not started yet).
    """
    started = time.perf_counter()
    config = config or LiveConfig()
    if not styles:
        raise VidstyleError("at least one style image is needed")
    images = [load_rgb(s) for s in styles]
    names = _style_names(styles)
    _check_outputs(config, styles)
    if config.window:
        check_display()
    settings = resolve_engine(config.engine)  # once: every style's stylizer shares the device and settings
    device = settings.device
    cam = camera or open_camera(config.camera, size=config.engine.size, mirror=config.mirror)
    threads_before, cv_threads_before = torch.get_num_threads(), cv2.getNumThreads()
    view: WindowView | None = None
    recorder: VideoWriter | None = None
    worker: StyleWorker | None = None
    session: _Session | None = None
    try:
        first = cam.latest()
        if first is not None:  # the display follows the newest result along the optical flow
            check_flow_size(*first.image.shape[:2], remedy="raise --size")
        engine = config.engine
        encoder = load_settings_encoder(settings)  # reports missing weights etc. before anything runs

        def build(index: int) -> Stylizer:  # every style's stylizer shares the one network on the device
            return make_stylizer(settings, [images[index]], reference=first.image if first else None,
                                 encoder=encoder)

        stylizer = build(0)
        seed = None
        if first is not None:  # painted before the display opens, with L-BFGS, which paints a cold start fastest
            painter = make_stylizer(dataclasses.replace(settings, optimizer=FIRST_OPTIMIZER), [images[0]],
                                    reference=first.image, encoder=encoder)
            seed = _warm_up(painter, first, config.first_iterations, engine.quiet)
        view = WindowView() if config.window else None
        recorder = VideoWriter(config.record, cam.fps, crf=engine.crf) if config.record else None
        cv2.setNumThreads(1)  # the display's flow and warps are tiny; OpenCV's pool would fight the worker
        worker = StyleWorker(cam, build, engine.iterations, threads=config.worker_threads(device),
                             stylizers={0: stylizer}, show_passes=shows_passes(device))
        if seed is not None:
            worker.seed(seed)
        session = _Session(config, names, worker, cam, view, recorder, keys)
        if not engine.quiet:
            say(f"camera {cam.name} at {float(cam.fps):.4g} fps, {camera_size(cam)} px, {len(names)} style(s), "
                f"{engine.iterations} passes per update on {device}" + (f"; {HELP}" if config.window else ""))
        cam.start()
        worker.start()
        try:
            session.run()
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP from the CLI (errors.SignalStop)
            session.stop_reason = f"stopped by {exc.name}" if isinstance(exc, SignalStop) else "interrupted (Ctrl-C)"
        end = time.perf_counter()
    finally:
        if worker is not None:
            worker.stop()
        cam.stop()
        if view is not None:
            view.close()
        if recorder is not None:
            _finish_recording(recorder, ok=session is not None and bool(session.stop_reason))
        torch.set_num_threads(threads_before)
        cv2.setNumThreads(cv_threads_before)
    summary = session.summary(started, end)
    if cam.state == "lost":
        say(f"warning: camera {cam.name!r} stopped delivering frames; session ended"
            + (f", recording kept ({summary.recorded_frames} frames)" if recorder and recorder.frames else ""))
    if not config.engine.quiet:
        say(summary.line())
        if config.record and summary.recorded_frames:
            say(f"recorded {config.record} ({summary.recorded_frames} frames)")
    if config.report:
        write_live_report(config.report, summary, config, names, str(device), cam)
    return summary


def _warm_up(stylizer: Stylizer, frame: Frame, iterations: int, quiet: bool) -> Stylized:
    """The first update, before the clock starts: ``iterations`` passes (or fewer, once its look stops changing)
    on the first camera frame, so the display opens on a painting; the style Grams and the backend's first-call
    costs are paid here too."""
    start = time.perf_counter()
    with iteration_progress(iterations, quiet, "painting the first frame") as bar:
        result = stylizer.stylize(frame.image, iterations=iterations, callback=bar)
        bar.finished(result.iterations, result.stopped)
    done = time.perf_counter()
    return Stylized(result.image, frame, 0, done, done - start)


def _finish_recording(recorder: VideoWriter, ok: bool) -> None:
    """Finish the file with the frames shown so far (also after errors: what was shown stays a valid video)."""
    if recorder.frames == 0:
        recorder.abort()
        if ok:
            say(f"nothing shown: {recorder.path} not written")
        return
    try:
        recorder.close()
    except VidstyleError:
        if ok:
            raise
    except BaseException:
        recorder.abort()
        raise
