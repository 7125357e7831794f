"""The stylization worker of live mode: optimises continuously, a few passes per update.

Each update takes the newest camera frame and starts from the worker's previous result carried onto that
frame (temporal/carry.carried: moved along the backward flow from the new frame to the frame the previous
result was made for, plus the camera's change since), so the optimisation carries over from update to update
while the scene moves. Style or style-weight changes (n/p, +/-) abort the update in flight and apply to the
next one, which still starts from the last result: the picture morphs into the new style instead of starting
over. On CPU the display also gets each pass of the update in flight as it finishes (``picture``).
"""
from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..io.camera import Camera, Frame
from ..engine import Stylizer
from ..temporal.flow import FlowEstimator
from ..temporal.carry import carried, colour_map, stroke_texture

StylizerFactory = Callable[[int], Stylizer]
WORKER_FLOW = "medium"  # the worker's warps accumulate from update to update: worth ~2 ms per update at 160 px


def carry(stylized: "Stylized", frame: np.ndarray, flow: FlowEstimator) -> np.ndarray:
    """``stylized``'s picture moved onto camera picture ``frame``, carrying the camera's change since it was
    made (temporal/carry.carried): the display's picture and the worker's next start."""
    drawn = stylized.frame.image
    return carried(stylized.image, drawn, frame, flow(frame, drawn), stylized.palette, stylized.strokes)


@dataclass(frozen=True)
class Stylized:
    """One finished update."""

    image: np.ndarray  # H x W x 3 RGB uint8
    frame: Frame  # the camera frame it was optimised for
    style_index: int
    finished: float  # time.perf_counter()
    seconds: float  # optimisation time of this update

    @functools.cached_property
    def palette(self) -> np.ndarray:
        """The painting's colours as a map of the camera's (temporal/carry.colour_map), fitted once for every
        frame this result is carried onto."""
        return colour_map(self.frame.image, self.image)

    @functools.cached_property
    def strokes(self) -> np.ndarray:
        """The painting's fine strokes, for the new content of every frame it is carried onto
        (temporal/carry.stroke_texture)."""
        return stroke_texture(self.image)

    @property
    def latency(self) -> float:
        """Seconds from the capture of its camera frame to the finished result."""
        return self.finished - self.frame.time


@dataclass(frozen=True)
class _Controls:
    """What the keys change: the style shown, the factor on its style weight, and pause."""

    style: int = 0
    weight_scale: float = 1.0
    paused: bool = False


class _Abort(Exception):
    """Raised from the optimiser callback to stop an update early."""


class StyleWorker:
    """Background thread: one Stylizer per style (built once, on first use), updates published to ``latest()``.

    ``stylizers`` may hold already-built ones (the session builds the first style's up front so that a
    missing weights file is reported before the camera starts).
    """

    def __init__(self, camera: Camera, factory: StylizerFactory, iterations: int, *, threads: int | None = None,
                 flow_quality: str = WORKER_FLOW, stylizers: dict[int, Stylizer] | None = None,
                 show_passes: bool = False) -> None:
        """``show_passes``: offer every pass of an update to the display as it finishes, not only the last
        (``picture`` then holds the update's image so far; ``latest``, ``updates`` and the latencies keep to
        finished updates)."""
        self.camera = camera
        self.iterations = iterations
        self.threads = threads
        self.show_passes = show_passes
        self.error: BaseException | None = None
        self.updates = 0
        self.updates_by_style: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.finish_times: list[float] = []
        self._factory = factory
        self._stylizers: dict[int, Stylizer] = dict(stylizers or {})
        self._base_weight: dict[int, float] = {}
        self._flow = FlowEstimator(flow_quality)
        self._controls = _Controls()
        self._version = 0  # bumped by every setting change; an update started on an older one is aborted
        self._latest: Stylized | None = None
        self._preview: Stylized | None = None  # the update in flight's image so far (show_passes)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stylization worker", daemon=True)

    # --- control (any thread) -------------------------------------------------------------------------
    def start(self) -> StyleWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish (the update in flight is aborted at its next pass) and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def set_style(self, index: int) -> None:
        self._change(style=index)

    def set_weight_scale(self, scale: float) -> None:
        self._change(weight_scale=scale)

    def set_paused(self, paused: bool) -> None:
        self._change(paused=paused)

    def _change(self, **values: object) -> None:
        with self._lock:
            self._controls = dataclasses.replace(self._controls, **values)
            self._version += 1
        self._wake.set()

    def seed(self, update: Stylized) -> None:
        """Publish a result made before the thread started (a warm-up); it is not counted as an update."""
        with self._lock:
            self._latest = update

    def latest(self) -> Stylized | None:
        """The newest finished update (or the seed), or None before the first."""
        with self._lock:
            return self._latest

    def picture(self) -> Stylized | None:
        """What to show: the update in flight's image so far where passes are shown and one is done, else
        ``latest``."""
        with self._lock:
            return self._preview or self._latest

    # --- worker thread --------------------------------------------------------------------------------
    def _stylizer(self, index: int, weight_scale: float) -> Stylizer:
        if index not in self._stylizers:
            self._stylizers[index] = self._factory(index)
        stylizer = self._stylizers[index]
        base = self._base_weight.setdefault(index, stylizer.weight("style"))
        if stylizer.weight("style") != base * weight_scale:  # +/- keys: beta of eq. 7 for the next updates
            stylizer.set_weight("style", base * weight_scale)
        return stylizer

    def _init_for(self, frame: Frame) -> np.ndarray | None:
        last = self.latest()
        if last is None or last.image.shape != frame.image.shape:
            return None
        if last.frame.index == frame.index:
            return last.image
        return carry(last, frame.image, self._flow)

    def _run(self) -> None:
        try:
            if self.threads is not None:
                torch.set_num_threads(self.threads)
            while not self._stop.is_set():
                with self._lock:
                    version, controls = self._version, self._controls
                style, scale, paused = controls.style, controls.weight_scale, controls.paused
                if paused:
                    self._wake.wait(0.1)
                    self._wake.clear()
                    continue
                last = self.latest()
                # a frame newer than the last result's if one comes soon (less latency), else refine that one
                frame = self.camera.wait_newer(last.frame.index if last else -1, 0.1) or self.camera.latest()
                if frame is None:
                    continue
                stylizer = self._stylizer(style, scale)
                init = self._init_for(frame)

                def check(iteration: int, _losses: dict[str, float], version: int = version, frame: Frame = frame,
                          stylizer: Stylizer = stylizer, style: int = style) -> None:
                    if self._stop.is_set() or self._version != version:
                        raise _Abort
                    if self.show_passes and iteration < self.iterations:
                        image = stylizer.current_image()
                        if image is not None:  # fresher than the last update's, for the display only
                            now = time.perf_counter()
                            with self._lock:
                                self._preview = Stylized(image, frame, style, now, now - start)

                start = time.perf_counter()
                try:
                    # the last pass's image, unmeasured: the forwards that would pick and measure it go to passes
                    result = stylizer.stylize(frame.image, init=init, iterations=self.iterations, callback=check,
                                              measure=False)
                except _Abort:
                    with self._lock:
                        self._preview = None
                    continue
                done = time.perf_counter()
                update = Stylized(result.image, frame, style, done, done - start)
                with self._lock:
                    self._latest, self._preview = update, None
                    self.updates += 1
                    self.updates_by_style[style] += 1
                    self.latencies.append(update.latency)
                    self.finish_times.append(done)
        except BaseException as exc:  # reported by the session in the main thread
            self.error = exc
