"""The per-frame loop of a video run, shared by the one-machine pipeline and the distributed chunks.

``stylize_frames`` stylizes a stream of frames in order: frame 0 cold, each later one from the stylized
frame before it (--temporal none | warm | flow). Its engine comes from ``engine.make_stylizer`` and its
TemporalSettings from vidstyle/compose.py (gamma resolved once per run, not per frame); it reports to the
watchers (``FrameEvents``) it is given.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import torch

from ..engine import Stylizer
from ..errors import VidstyleError
from ..io.mask_files import MaskSequence
from ..settings import TemporalSettings
from ..temporal.flow import check_flow_size
from ..temporal.propagate import TemporalPlanner
from ..progress.frame_bar import CallbackEvents, FrameBar, FrameEvents, FrameUpdate, Watchers
from .stages import Decoder, Writer
from .source import Source
from .workdir import WorkDir

ProgressCallback = Callable[[FrameUpdate], None]


@dataclass
class FinishedFrame:
    """One stylized frame from ``stylize_frames``: its position in the frames given, the image, its record."""

    index: int
    image: np.ndarray
    record: dict[str, Any]  # iterations, losses, seconds, temporal fields (what the work directory logs)


def check_flow_frames(source: Source, temporal: TemporalSettings) -> None:
    """Flow mode: refuse frames too small for the optical flow (its first frame decoded once to see its size)."""
    if temporal.mode == "flow":
        first = next(source.stream(), None)
        if first is not None:
            check_flow_size(*first.shape[:2], remedy="raise --size, or use --temporal warm or none")


def stylize_frames(frames: Iterable[np.ndarray], stylizer: Stylizer, temporal: TemporalSettings, *, done: int = 0,
                   load_previous: Callable[[int], np.ndarray] | None = None, first: int = 0,
                   masks: MaskSequence | None = None,
                   events: FrameEvents | None = None,
                   records: Mapping[int, dict[str, Any]] | None = None) -> Iterator[FinishedFrame]:
    """The per-frame loop: frame 0 of ``frames`` starts cold (--first-iterations), each later one from the
    stylized frame before it (--temporal none | warm | flow).

    The first ``done`` frames were finished earlier: they are read past (their input frames still feed the
    flow) and the loop resumes from ``load_previous(done - 1)``, the stylized frame before the first missing
    one; ``records`` (the work directory's log) give a resumed shot its first frame's look back, so its
    frames get the budget top-ups an uninterrupted run gives them. ``first``: input index of frame 0 (mask file i belongs to input frame i). Photo mode: each frame gets
    its own matting Laplacian and, with a mask folder, its own content mask. ``events``: told when each frame
    starts and after each pass (when it wants passes).
    """
    events = events or FrameEvents()
    previous: np.ndarray | torch.Tensor | None = None
    prev_frame: np.ndarray | None = None
    said: set[str] = set()  # the eager-pass reasons already told
    planner = TemporalPlanner(temporal.mode, iterations=temporal.iterations,
                              first_iterations=temporal.first_iterations, weight=temporal.weight,
                              quality=temporal.flow_quality, device=stylizer.device)
    with planner:
        for index, (frame, next_frame) in enumerate(_with_next(iter(frames))):
            if index < done:
                prev_frame = frame
                continue  # finished by an earlier run
            if index > 0 and previous is None:
                if load_previous is None:
                    raise ValueError("resuming after the first frame needs load_previous")
                previous = load_previous(index - 1)
                planner.resumed(_shot_reference(records or {}, index))
                if previous.shape[:2] != frame.shape[:2]:  # every --temporal mode: frames of one size are written
                    raise VidstyleError(f"the finished frames kept for this run are {previous.shape[1]}x"
                                        f"{previous.shape[0]} but its frames are {frame.shape[1]}x{frame.shape[0]} "
                                        "(made by another version of vidstyle?); pass --overwrite to start over")
            planned = time.perf_counter()
            start = planner.start(frame, prev_frame, previous)  # --temporal none | warm | flow
            planned = time.perf_counter() - planned
            planner.prefetch(frame, next_frame)  # flow t -> t+1 in a worker while frame t is optimised
            events.frame_started(start.iterations)
            frame_mask = masks.for_frame(first + index) if masks else None
            result = stylizer.stylize(frame, init=start.init, iterations=start.iterations,
                                      callback=events.pass_done if events.wants_passes else None,
                                      terms=start.terms, mask=frame_mask)
            # flow: more passes while the frame's look lags its shot's first frame's (temporal/budget.py)
            # (continued over the buffers that hold the frame where the engine can: no upload, no new forward)
            result = planner.finish(start, result, lambda image, passes, content=frame, start=start, mask=frame_mask:
                                    stylizer.resume(passes) or
                                    stylizer.stylize(content, init=image, iterations=passes, terms=start.terms,
                                                     mask=mask))
            # the delivered image kept on the device where the engine has it: flow warps it there
            previous, prev_frame = result.image if result.pixels is None else result.pixels, frame
            if result.capture not in (None, "captured") and result.capture not in said:
                said.add(result.capture)
                events.note(f"the optimiser's pass runs {result.capture}")  # once, never silently
            capture = {"capture": result.capture} if result.capture is not None else {}
            yield FinishedFrame(index, result.image, {
                "iterations": result.iterations, "stopped": result.stopped, "losses": result.losses,
                "seconds": result.seconds + planned,
                "temporal_seconds": planned, **capture, **start.record()})


def _shot_reference(records: Mapping[int, dict[str, Any]], index: int) -> dict[str, float] | None:
    """The delivered losses of the first frame of the shot that frame ``index`` belongs to (frame 0 or the
    last frame before it that started a shot), from the finished frames' records; None when unknown."""
    for j in range(index - 1, -1, -1):
        record = records.get(j)
        if record is None:
            return None
        if j == 0 or record.get("shot_change"):
            return record.get("losses")
    return None


def run_frames(source: Source, stylizer: Stylizer, work: WorkDir, temporal: TemporalSettings,
               events: FrameEvents | None = None, masks: MaskSequence | None = None) -> tuple[int, int]:
    """Stylize every unfinished frame into the work directory; returns (frames in total, frames computed).
    ``events`` (a bar, the caller's callback, or both: ``Watchers``) hears of every frame and pass.

    Three threads: decoding runs ahead (``Decoder``), this thread optimises, PNGs are written behind
    (``Writer``, in order, log line then frame); leaving early still saves every frame already reported.
    """
    events = events or FrameEvents()
    done = work.finished()
    count = computed = 0

    with Decoder(source.stream) as decoded, Writer(work) as writer:
        def counted() -> Iterator[np.ndarray]:
            nonlocal count
            for frame in decoded:
                count += 1
                yield frame

        for step in stylize_frames(counted(), stylizer, temporal, done=done, load_previous=work.load,
                                   first=source.first, masks=masks, events=events, records=work.records):
            writer.submit(step.index, step.image, step.record)
            computed += 1
            events.frame_finished(FrameUpdate(step.index, source.total, computed, step.record["iterations"],
                                              step.record["losses"], step.record["seconds"], step.record["stopped"]))
        writer.close()
        events.counted(count)
    return count, computed


def watch_frames(source: Source, work: WorkDir, quiet: bool, progress: ProgressCallback | None) -> Watchers:
    """What watches a run on this machine: the frame bar (silent with --quiet) and the caller's callback;
    enter it around the run (the bar's display is open while inside)."""
    done = work.finished()
    return Watchers(FrameBar(source.total, min(done, source.total or done), quiet),
                    CallbackEvents(progress) if progress is not None else None)


def _with_next(frames: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(frame, the frame after it or None): one frame of look-ahead for the flow prefetch."""
    current = next(frames, None)
    while current is not None:
        following = next(frames, None)
        yield current, following
        current = following


