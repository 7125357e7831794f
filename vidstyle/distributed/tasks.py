"""The Ray task of a distributed run: one chunk through the normal per-frame loop, frames streamed back.

The worker opens the input itself (a path every worker can read: a shared file system, or one machine),
builds the engine with ``make_stylizer`` from the run's settings, resolved once on the driver (vidstyle/compose.py;
only the device is chosen on the worker, which may have other hardware), exactly as a local run does, and runs
``stylize_frames`` over the chunk's frames (lead-in, own frames, run-on) from its cold first frame. Each finished frame is yielded at
once (a Ray generator task), so the driver stores it before the next one is computed and a crash loses
at most the frame in progress.
"""
from __future__ import annotations

import itertools
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import VidstyleError
from ..settings import RunSettings
from .chunks import Chunk


@dataclass
class ChunkJob:
    """Everything a worker needs for one chunk (shipped to it by Ray)."""

    input: str  # resolved path of the video or frame folder; must be readable on the worker
    kind: str  # "video" or "frames"
    identity: dict[str, Any]  # the driver's view of the input (its size is checked on the worker)
    styles: list[np.ndarray]
    run: RunSettings  # resolved on the driver (the device excepted)
    reference: np.ndarray | None  # the input's first frame (colour statistics of the style controls)
    chunk: Chunk
    done: int = 0  # frames of the chunk the driver already has (resume after them)
    previous: np.ndarray | None = None  # the chunk's own stylized frame done-1 when done > 0
    threads: int = 1  # torch intra-op threads on the worker


FrameMessage = tuple[int, np.ndarray, dict[str, Any]]  # (frame index within the chunk, image, record)


def worker_identity(device: str) -> dict[str, Any]:
    """Which worker computed a frame: host, process id, Ray node and the torch device."""
    node = None
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - outside Ray (direct calls in tests) there is no node
        node = None
    return {"host": socket.gethostname(), "pid": os.getpid(), "node": node, "device": device}


def run_chunk(job: ChunkJob) -> Iterator[FrameMessage]:
    """Stylize ``job.chunk`` from its frame ``job.done`` on; yields each finished frame (plain generator)."""
    import torch

    from ..compose import on_this_machine
    from ..engine import make_stylizer
    from ..video.loop import stylize_frames
    from ..video.pipeline import open_source, source_masks

    torch.set_num_threads(max(1, job.threads))  # several workers on one machine must not fight for cores
    path = Path(job.input)
    if not path.exists():
        raise VidstyleError(f"input {path} is not readable on worker {socket.gethostname()}; distributed runs "
                            "need the input on a path every worker sees (a shared file system)")
    source = open_source(path, job.kind, job.run.input)
    if source.identity.get("bytes") != job.identity.get("bytes") or \
            source.identity.get("files") != job.identity.get("files"):
        raise VidstyleError(f"input {path} on worker {socket.gethostname()} differs from the driver's copy")
    if job.done > 0 and job.previous is None:
        raise VidstyleError("resuming a chunk needs its last finished frame")
    stylizer = make_stylizer(on_this_machine(job.run.engine), job.styles, reference=job.reference)
    who = worker_identity(str(stylizer.device))
    c = job.chunk
    frames = itertools.islice(source.stream(), c.begin, c.end)  # decoded from the start: exact frame positions
    for step in stylize_frames(frames, stylizer, job.run.temporal, done=job.done, load_previous=lambda _: job.previous,
                               first=source.first + c.begin, masks=source_masks(source, job.run.input)):
        yield step.index, step.image, {**step.record, "worker": who}


def remote_chunk_task() -> Any:
    """``run_chunk`` as a Ray generator task (created on first use so that importing needs no Ray).

    Ray's own retries are off: the driver resubmits a chunk whose worker died from the frames it already
    stored, so nothing is computed twice.
    """
    import ray

    global _REMOTE
    if _REMOTE is None:
        @ray.remote(max_retries=0)
        def chunk_task(job: ChunkJob) -> Iterator[FrameMessage]:
            yield from run_chunk(job)

        _REMOTE = chunk_task
    return _REMOTE


_REMOTE: Any = None
