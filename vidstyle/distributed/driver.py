"""The driver of a distributed run: plan chunks, submit them to Ray, store and commit frames in order, resume.

Every frame a task streams back is stored at once in the chunk's own staging work directory
(``WORK/chunks/NNNN``); frames are then committed to the run's work directory strictly in order, an overlap
frame (the later chunk's lead-in, the earlier one's run-on) as the cross-fade of the two chunks' versions.
A chunk whose worker dies is resubmitted from its last stored frame (Ray's own retries are off so nothing is
computed twice); a rerun does the same for every unfinished chunk. A chunk's staging is deleted once all of its frames are committed.
"""
from __future__ import annotations

import dataclasses

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import VidstyleError
from ..settings import RunSettings
from ..temporal.flow import FlowEstimator
from ..metrics.seams import seam_figures
from ..metrics.warping import warping_error
from ..temporal.shots import analyze_motion
from ..video.pipeline import RunOutcome
from ..progress.frame_bar import FrameUpdate
from ..video.source import Source
from ..video.workdir import STAGING, WorkDir
from .chunks import Chunk, blend_pair, blend_weight, cross_fade, near_border, plan_chunks
from .address import check_address
from .ray_options import RayOptions, require_ray
from .local_ray import ray_session
from ..progress.chunk_bar import ChunkBar
from ..vocab import CAP
from .tasks import ChunkJob, remote_chunk_task

RESOURCE_NAMES = {"num_cpus": "CPU", "num_gpus": "GPU"}  # task option -> cluster resource
SEAM_FLOW_QUALITY = "fine"  # the seam figures grade the output with the most accurate flow


def scan_input(source: Source, flow_quality: str, chunk_frames: int,
               detect_cuts: bool) -> tuple[int, Any, list[int]]:
    """One pass over the input: (frame count, first frame, shot changes near the chunk borders)."""
    estimator = FlowEstimator(flow_quality) if detect_cuts else None
    total, reference, previous, cuts = 0, None, None, []
    for i, frame in enumerate(source.stream()):
        total = i + 1
        if i == 0:
            reference = frame
        elif estimator is not None and near_border(i, chunk_frames) and previous.shape == frame.shape:
            if analyze_motion(previous, frame, estimator).shot_change:
                cuts.append(i)
        previous = frame
    return total, reference, cuts


@dataclass
class _ChunkState:
    chunk: Chunk
    stage: WorkDir
    attempts: int = 0
    computed: int = 0
    submitted: float = 0.0
    finished: float | None = None


class RayRunner:
    """A FrameRunner for ``stylize_video`` that computes the frames as chunks on a Ray cluster."""

    def __init__(self, options: RayOptions, on_frame: Any = None, probe_seconds: float | None = None) -> None:
        options.validate()
        require_ray()  # a one-line error naming the extra before any work
        self.options = options
        self.on_frame = on_frame  # called with (chunk index, frame in chunk, image, record) once stored
        self.probe_seconds = probe_seconds  # how long the cluster may take to answer (None: address.PROBE_SECONDS)

    def settings(self) -> dict[str, Any]:
        # "seams" names the seam method, so work directories of another method are not resumed under this plan
        return {"distributed": {"chunk_frames": self.options.chunk_frames, "overlap": self.options.overlap,
                                "seams": "lead-in+run-on"}}

    def run(self, source: Source, styles: list[np.ndarray], work: WorkDir, run: RunSettings,
            progress: Any) -> RunOutcome:
        ray = require_ray()
        o = self.options
        # a Ray the caller initialised is used as it is; else the cluster must answer now, not after the scan
        address = None if ray.is_initialized() else check_address(o.address, self.probe_seconds)
        temporal = run.temporal.mode != "none"
        overlap = o.overlap if temporal else 0  # independent frames need no overlap
        total, reference, cuts = scan_input(source, run.temporal.flow_quality, o.chunk_frames, temporal)
        if total == 0:
            raise VidstyleError(f"no frames in {source.identity.get('path')}")
        plan = plan_chunks(total, o.chunk_frames, overlap, cuts)
        with ray_session(ray, o, address, run.quiet):
            return self._run(ray, source, styles, work, run, progress, plan, total, reference)

    # -- the scheduling loop -----------------------------------------------------------------------------
    def _run(self, ray: Any, source: Source, styles: list[np.ndarray], work: WorkDir, run: RunSettings,
             progress: Any, plan: list[Chunk], total: int, reference: Any) -> RunOutcome:
        o = self.options
        committed = resumed = min(work.finished(), total)
        states = {c.index: _ChunkState(c, WorkDir(work.path / STAGING / f"{c.index:04d}",
                                                  {"run": work.fingerprint, "chunk": c.as_dict()}, overwrite=True,
                                                  lock=False))
                  for c in plan if c.end > committed}
        pending = [s for s in states.values() if s.stage.finished() < s.chunk.length]
        resources, threads = o.task_resources(ray.cluster_resources())
        cluster = ray.cluster_resources()
        limit = o.workers or max(1, int(min(cluster.get(RESOURCE_NAMES[k], 0) / v
                                            for k, v in resources.items() if v > 0)))
        device = o.worker_device(cluster, run.engine.device_request)
        if device != run.engine.device_request:
            run = dataclasses.replace(run, engine=dataclasses.replace(run.engine, device_request=device))
        task = remote_chunk_task()
        base = ChunkJob(input=str(source.identity["path"]), kind=source.kind, identity=source.identity,
                        styles=styles, run=run, reference=reference, chunk=plan[0], threads=threads)
        active: dict[Any, _ChunkState] = {}
        computed = 0
        bar = ChunkBar(total, committed, len(plan), len(plan) - len(pending), run.quiet)
        try:
            with bar:
                committed = self._commit(plan, states, work, committed, total, progress, computed)
                while pending or active:
                    while pending and len(active) < limit:
                        state = pending.pop(0)
                        done = state.stage.finished()
                        job = _replace(base, chunk=state.chunk, done=done,
                                       previous=state.stage.load(done - 1) if done else None)
                        state.attempts += 1
                        state.submitted = state.submitted or time.perf_counter()
                        active[task.options(**resources).remote(job)] = state
                    bar.running(len(active))
                    ready, _ = ray.wait(list(active), num_returns=1, timeout=1.0)
                    for gen in ready:
                        state = active[gen]
                        message = self._next(ray, gen, state)
                        if message is None or message == "retry":
                            del active[gen]
                            if message == "retry":
                                pending.insert(0, state)
                            elif committed < state.chunk.end and state.stage.finished() < state.chunk.length:
                                raise VidstyleError(f"chunk {state.chunk.index} ended before its last frame")
                            else:
                                state.finished = time.perf_counter()
                                bar.chunk_done()
                            continue
                        index, image, record = message
                        state.stage.save(index, image, record)
                        state.computed += 1
                        computed += 1
                        if self.on_frame is not None:
                            self.on_frame(state.chunk.index, index, image, record)
                        new = self._commit(plan, states, work, committed, total, progress, computed)
                        bar.frames(new, computed, record.get("losses", {}))
                        committed = new
        except BaseException:
            for gen in active:
                _cancel(ray, gen)
            raise
        figures = _seam_report(source, work, plan, total) if run.output.report else None
        return RunOutcome(total, computed, _devices(work, total), {"distributed": _report(
            o, plan, states, resources, limit, figures)}, resumed=resumed)

    def _next(self, ray: Any, gen: Any, state: _ChunkState) -> Any:
        """The next frame message of a task; None when it has ended; "retry" when its worker died."""
        try:
            return ray.get(next(gen))
        except StopIteration:
            return None
        except ray.exceptions.RayTaskError as exc:  # an error in our code on the worker: not worth a retry
            cause = getattr(exc, "cause", None)
            raise (cause if isinstance(cause, Exception) else exc) from None
        except ray.exceptions.RayError as exc:  # the worker or its node died, an object was lost, ...
            if state.attempts > self.options.retries:
                raise VidstyleError(f"chunk {state.chunk.index} failed {state.attempts} times; last: "
                                    f"{type(exc).__name__}") from None
            return "retry"

    def _commit(self, plan: list[Chunk], states: dict[int, _ChunkState], work: WorkDir, committed: int,
                total: int, progress: Any, computed: int) -> int:
        """Write every frame that can now be finished, in order; returns the new count of committed frames."""
        while committed < total:
            pair = blend_pair(plan, committed)
            owner = next(c for c in plan if c.start <= committed < c.stop)
            sources = pair or (owner,)
            stages = [states[c.index].stage for c in sources]
            if not all(st.frame_path(committed - c.begin).is_file() for st, c in zip(stages, sources)):
                break
            images = [st.load(committed - c.begin) for st, c in zip(stages, sources)]
            records = [st.records.get(committed - c.begin, {}) for st, c in zip(stages, sources)]
            record = {**records[sources.index(owner)], "chunk": owner.index}
            image = images[0]
            if pair is not None:
                earlier, later = pair
                weight = blend_weight(earlier, later, committed)
                image = cross_fade(images[0], images[1], weight)
                other = records[1] if owner is earlier else records[0]
                record.update(blend={"chunks": [earlier.index, later.index], "weight": round(weight, 4),
                                     "losses": other.get("losses")},
                              iterations=sum(r.get("iterations", 0) for r in records),
                              seconds=sum(r.get("seconds", 0.0) for r in records))
            work.save(committed, image, record)
            if progress is not None:
                progress(FrameUpdate(committed, total, computed, record.get("iterations", 0),
                                     record.get("losses", {}), record.get("seconds", 0.0),
                                     record.get("stopped", CAP)))
            committed += 1
            for c in sources:
                if committed >= c.end:
                    states[c.index].stage.clear()  # every frame this chunk computed is committed
        return committed


def _replace(job: ChunkJob, **changes: Any) -> ChunkJob:
    from dataclasses import replace

    return replace(job, **changes)


def _cancel(ray: Any, gen: Any) -> None:
    try:
        ray.cancel(gen, force=True)
    except Exception:  # noqa: BLE001 - best effort: the task may have ended already
        pass


def _devices(work: WorkDir, total: int) -> str:
    devices = sorted({str(r.get("worker", {}).get("device")) for r in work.records.values() if r.get("worker")})
    return ",".join(devices) or "ray"


def _seam_report(source: Source, work: WorkDir, plan: list[Chunk], total: int) -> dict[str, Any]:
    """Warping error of the committed output around each seam against the interior's."""
    outputs = (work.load(i) for i in range(total))
    result = warping_error(outputs, source.stream(), quality=SEAM_FLOW_QUALITY)
    return {"flow_quality": SEAM_FLOW_QUALITY, **seam_figures(result.per_frame, plan, result.shot_changes)}


def _report(o: RayOptions, plan: list[Chunk], states: dict[int, _ChunkState], resources: dict[str, float],
            limit: int, seams: dict[str, Any] | None) -> dict[str, Any]:
    """The report's "distributed" section: options, workers, per-chunk timing, seam figures."""
    workers: dict[tuple[Any, Any], dict[str, Any]] = {}
    chunks = []
    for c in plan:
        s = states.get(c.index)
        entry: dict[str, Any] = {**c.as_dict(), "lead": c.lead, "end": c.end}
        if s is not None:
            entry.update(attempts=s.attempts, frames_computed=s.computed,
                         wall_seconds=(s.finished - s.submitted) if s.finished and s.submitted else None)
        chunks.append(entry)
    for s in states.values():
        for r in s.stage.records.values():
            w = r.get("worker")
            if w:
                key = (w.get("host"), w.get("pid"))
                item = workers.setdefault(key, {**w, "frames": 0, "seconds": 0.0})
                item["frames"] += 1
                item["seconds"] += r.get("seconds", 0.0)
    return {"address": o.address or "local", "chunk_frames": o.chunk_frames, "overlap": o.overlap,
            "resources_per_task": resources, "concurrent_tasks": limit, "pid": os.getpid(),
            "chunks": chunks, "workers": list(workers.values()), "seams": seams}
