"""Settings of a distributed run (--ray, --chunk-frames, --overlap, ...), their validation and Ray's import."""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from ..config import NumberRule
from ..errors import VidstyleError
from .address import parse_address

RAY_EXTRA = "pip install 'vidstyle[ray]'"
# The numeric settings' rules, checked like the Config's (finite, in range).
RAY_NUMBER_RULES = {"chunk_frames": NumberRule(1, 2**31, integer=True), "overlap": NumberRule(0, 2**31, integer=True),
                    "workers": NumberRule(1, 4096, integer=True), "gpus_per_task": NumberRule(0, 64),
                    "cpus_per_task": NumberRule(0, 4096, low_open=True), "retries": NumberRule(0, 100, integer=True)}


def require_ray() -> Any:
    """The ``ray`` module, or a one-line VidstyleError naming the extra that provides it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise VidstyleError(f"--ray needs Ray, which is not installed: {RAY_EXTRA}") from None


@dataclass
class RayOptions:
    """How a video is split over a Ray cluster."""

    address: str | None = None  # a running cluster (ray://host:10001, host:6379, auto); None or local = start Ray here
    chunk_frames: int = 64  # frames per chunk (borders move up to a quarter of this to land on a shot change)
    overlap: int = 4  # frames a chunk starts before its border and runs on past it (2K cross-faded)
    workers: int | None = None  # chunks computed at once; None = as many as the cluster's resources allow
    gpus_per_task: float = 1.0  # GPUs per chunk when the cluster has GPUs (0.5 = two chunks share one)
    cpus_per_task: float = 1.0  # CPU cores per chunk (also its torch threads) when it has none
    retries: int = 3  # resubmissions of a chunk whose worker died

    def validate(self) -> None:
        """VidstyleError for settings that make no sense."""
        for name, rule in RAY_NUMBER_RULES.items():
            rule.check(name, getattr(self, name))
        if self.overlap >= self.chunk_frames:
            raise VidstyleError("--overlap must be less than --chunk-frames")
        if self.gpus_per_task > 1:  # a chunk's stylizer runs on one device: more would be reserved, never used
            raise VidstyleError("--gpus-per-task above 1 would reserve GPUs a chunk never uses (a chunk runs on "
                                "one GPU); give 1, or a fraction such as 0.5 to share one GPU between chunks")
        parse_address(self.address)  # its form, before any work (whether a cluster answers: at the run's start)

    def init_arguments(self, address: str = "local", temp_dir: str | os.PathLike | None = None) -> dict[str, Any]:
        """``ray.init`` keywords: join ``address`` (vidstyle.distributed.address), or start a local Ray (all
        local GPUs; on CPU one worker process per core, or --workers of them when more are asked for) whose
        session lives in ``temp_dir``. "local" starts one even when $RAY_ADDRESS names a cluster."""
        args: dict[str, Any] = {"address": address, "include_dashboard": False, "log_to_driver": False,
                                "configure_logging": False}
        if address == "local":
            cores = os.cpu_count() or 1
            args["num_cpus"] = max(cores, int((self.workers or 1) * self.cpus_per_task + 0.999))
            if temp_dir is not None:
                args["_temp_dir"] = str(temp_dir)
        return args

    def worker_device(self, cluster: dict[str, float], request: str) -> str:
        """The --device a chunk's worker uses: with --gpus-per-task 0 on a cluster that has GPUs, Ray hides
        them from the task, so it runs on the CPU (an explicit --device cuda is refused: it would fail on
        every worker); otherwise the request as given."""
        if cluster.get("GPU", 0) > 0 and self.gpus_per_task == 0:
            if request.startswith("cuda"):
                raise VidstyleError(f"--gpus-per-task 0 runs the chunks on CPU workers (Ray hides the GPUs from "
                                    f"them), so --device {request} cannot work; drop one of the two")
            return "cpu"
        return request

    def task_resources(self, cluster: dict[str, float]) -> tuple[dict[str, float], int]:
        """(Ray resources of one chunk task, its torch threads): one GPU (--gpus-per-task) when the cluster has
        GPUs, else --cpus-per-task cores."""
        threads = max(1, int(self.cpus_per_task))
        if cluster.get("GPU", 0) > 0 and self.gpus_per_task > 0:
            return {"num_gpus": self.gpus_per_task, "num_cpus": min(self.cpus_per_task, 1.0)}, threads
        return {"num_cpus": self.cpus_per_task}, threads
