"""The per-frame loop of a video run, shared by the one-machine pipeline and the distributed chunks.

``stylize_frames`` stylizes a stream of frames in order: frame 0 cold, each later one from the stylized
frame before it (--temporal none | warm | flow). Its engine comes from ``engine.build_stylizer(..., video=True)``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..config import Config
from ..engine import Stylizer
from ..io.mask_files import MaskSequence
from ..temporal.propagate import TemporalPlanner
from ..progress.frame_bar import FrameBar, FrameUpdate
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


def stylize_frames(frames: Iterable[np.ndarray], stylizer: Stylizer, config: Config, *, done: int = 0,
                   load_previous: Callable[[int], np.ndarray] | None = None, first: int = 0,
                   masks: MaskSequence | None = None, bar: FrameBar | None = None) -> Iterator[FinishedFrame]:
    """The per-frame loop: frame 0 of ``frames`` starts cold (--first-iterations), each later one from the
    stylized frame before it (--temporal none | warm | flow).

    The first ``done`` frames were finished earlier: they are read past (their input frames still feed the
    flow) and the loop resumes from ``load_previous(done - 1)``, the stylized frame before the first missing
    one. ``first``: input index of frame 0 (mask file i belongs to input frame i). Photo mode: each frame gets
    its own matting Laplacian and, with a mask folder, its own content mask.
    """
    previous: np.ndarray | None = None
    prev_frame: np.ndarray | None = None
    planner = TemporalPlanner(config.temporal, iterations=config.iterations,
                              first_iterations=config.first_frame_iterations, weight=config.resolved_temporal_weight(),
                              quality=config.flow_quality, device=stylizer.device)
    with planner:
        for index, (frame, next_frame) in enumerate(_with_next(iter(frames))):
            if index < done:
                prev_frame = frame
                continue  # finished by an earlier run
            if index > 0 and previous is None:
                if load_previous is None:
                    raise ValueError("resuming after the first frame needs load_previous")
                previous = load_previous(index - 1)
            planned = time.perf_counter()
            start = planner.start(frame, prev_frame, previous)  # --temporal none | warm | flow
            planned = time.perf_counter() - planned
            planner.prefetch(frame, next_frame)  # flow t -> t+1 in a worker while frame t is optimised
            if bar is not None:
                bar.start_frame(start.iterations)
            content = frame if start.content is None else start.content  # flow: denoised where still
            result = stylizer.stylize(content, init=start.init, iterations=start.iterations,
                                      callback=bar.iteration if bar is not None and not config.quiet else None,
                                      terms=start.terms,
                                      mask=masks.for_frame(first + index) if masks else None)
            previous, prev_frame = result.image, frame
            yield FinishedFrame(index, result.image, {
                "iterations": result.iterations, "losses": result.losses, "seconds": result.seconds + planned,
                "temporal_seconds": planned, **start.record()})


def run_frames(source: Source, stylizer: Stylizer, work: WorkDir, config: Config,
                progress: ProgressCallback | None, masks: MaskSequence | None = None) -> tuple[int, int]:
    """Stylize every unfinished frame into the work directory; returns (frames in total, frames computed).

    Three threads: decoding runs ahead (``Decoder``), this thread optimises, PNGs are written behind
    (``Writer``, in order, log line then frame); leaving early still saves every frame already reported.
    """
    done = work.finished()
    count = computed = 0

    with FrameBar(source.total, min(done, source.total or done), config.quiet) as bar, \
            Decoder(source.stream) as decoded, Writer(work) as writer:
        def counted() -> Iterator[np.ndarray]:
            nonlocal count
            for frame in decoded:
                count += 1
                yield frame

        for step in stylize_frames(counted(), stylizer, config, done=done, load_previous=work.load,
                                   first=source.first, masks=masks, bar=bar):
            writer.submit(step.index, step.image, step.record)
            computed += 1
            losses = step.record["losses"]
            bar.frame_done(losses)
            if progress is not None:
                progress(FrameUpdate(step.index, source.total, computed, step.record["iterations"], losses,
                                     step.record["seconds"]))
        writer.close()
        bar.set_total(count)
    return count, computed


def _with_next(frames: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(frame, the frame after it or None): one frame of look-ahead for the flow prefetch."""
    current = next(frames, None)
    while current is not None:
        following = next(frames, None)
        yield current, following
        current = following


