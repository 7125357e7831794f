"""The CUDA branch of the engine run on the CPU, with a check of what a real CUDA-graph capture forbids.

``StandInCuda`` is an accelerator (vidstyle/engine/accelerator.py) that says it captures, as CUDA's does, so
the engine takes its CUDA branch: side streams, captured and replayed passes, pinned read-back buffers,
uploads. Its streams, graph, events and pinned memory are stand-ins on the CPU:

* **capture** runs the pass under ``CaptureRules``, a TorchDispatchMode that fails on every op that is
  illegal or silently wrong under a real capture: a host read (``aten._local_scalar_dense``: ``.item()``,
  ``bool()``, ``float()``, ``.tolist()``), a tensor made from Python data (``aten.lift_fresh``: a copy from
  pageable host memory), a data-dependent shape (``nonzero``, ``masked_select``, ``unique``), random numbers
  (the graph would replay the same ones), and an upload or read through the accelerator. A real capture
  records the kernels without running them, so every buffer the pass writes is restored afterwards: the
  capture leaves memory as it found it, as on a GPU.
* **replay** runs the pass again under ``ReplayRules``: it fails when an op reads a tensor storage that
  existed before the replay but that the capture never saw (a buffer replaced since: the real graph would
  read the old address).

``install(monkeypatch)`` puts the stand-in in place of every device's accelerator; ``StandInCuda.stats``
counts captures, replays, blocking reads and uploads.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import vidstyle.engine.accelerator as accelerator_module
from vidstyle.engine.accelerator import HostAccelerator

HOST_READS = {"aten._local_scalar_dense", "aten.equal", "aten.is_nonzero"}
FROM_PYTHON = {"aten.lift_fresh", "aten.lift_fresh_copy", "aten.lift"}
DATA_DEPENDENT = {"aten.nonzero", "aten.nonzero_static", "aten.masked_select", "aten.unique", "aten._unique",
                  "aten._unique2", "aten.unique_dim", "aten.unique_consecutive", "aten.unique_dim_consecutive"}
RANDOM = {"aten.normal", "aten.normal_", "aten.uniform", "aten.uniform_", "aten.bernoulli", "aten.bernoulli_",
          "aten.rand", "aten.rand_like", "aten.randn", "aten.randn_like", "aten.randint", "aten.randint_like",
          "aten.randperm", "aten.multinomial", "aten.native_dropout", "aten.exponential_", "aten.geometric_",
          "aten.cauchy_", "aten.log_normal_", "aten.random_"}


class CaptureViolation(AssertionError):
    """An op a real CUDA-graph capture refuses or gets wrong."""


def _name(func: Any) -> str:
    return str(func.overloadpacket._qualified_op_name).replace("::", ".")


def _tensors(values: Any) -> list[torch.Tensor]:
    return [t for t in tree_leaves(values) if isinstance(t, torch.Tensor)]


def _key(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _rule(name: str) -> str | None:
    """Why ``name`` may not run inside a capture (None: it may)."""
    if name in HOST_READS:
        return "reads a device value on the host"
    if name in FROM_PYTHON:
        return "makes a tensor from Python data (a copy from pageable host memory)"
    if name in DATA_DEPENDENT:
        return "has a data-dependent output shape"
    if name in RANDOM:
        return "draws random numbers (a replay repeats them)"
    return None


def _check(func: Any, where: str) -> str:
    """The op's name; CaptureViolation when it may not run ``where``."""
    name = _name(func)
    why = _rule(name)
    if why is not None:
        raise CaptureViolation(f"{name} {why}: illegal {where}")
    return name


class CaptureRules(TorchDispatchMode):
    """Fails on what a capture forbids; records every storage the pass touches; saves what it writes so the
    capture can be undone."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[int] = set()
        self.saved: dict[int, tuple[torch.UntypedStorage, torch.UntypedStorage]] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        _check(func, "inside a CUDA graph capture")
        schema = func._schema
        for argument, value in zip(schema.arguments, list(args) + [kwargs.get(a.name) for a in
                                                                   schema.arguments[len(args):]]):
            if argument.alias_info is not None and argument.alias_info.is_write:
                for t in _tensors(value):
                    key = _key(t)
                    if key not in self.saved and key not in self._made:
                        storage = t.untyped_storage()
                        self.saved[key] = (storage, storage.clone())
        inputs = _tensors((args, kwargs))
        self.seen.update(_key(t) for t in inputs)
        out = func(*args, **kwargs)
        made = {_key(t) for t in _tensors(out)} - {_key(t) for t in inputs}
        self._made.update(made)  # allocated inside the capture: the graph's own pool
        self.seen.update(made)
        return out

    def __enter__(self):  # noqa: ANN204
        self._made: set[int] = set()
        return super().__enter__()

    def undo(self) -> None:
        """Put back every storage the capture wrote (a real capture runs no kernel)."""
        with torch.no_grad():
            for storage, copy in self.saved.values():
                storage.copy_(copy)


class ReplayRules(TorchDispatchMode):
    """Fails when a replayed op reads a storage the capture did not see (made before this replay)."""

    def __init__(self, seen: set[int]) -> None:
        super().__init__()
        self.seen = seen
        self.made: set[int] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        name = _check(func, "in a replayed graph")
        inputs = _tensors((args, kwargs))
        for t in inputs:
            key = _key(t)
            if key not in self.seen and key not in self.made and t.numel() > 0:
                raise CaptureViolation(f"{name} reads a {tuple(t.shape)} buffer the capture did not see (replaced "
                                       "since the capture: the graph would read the old one)")
        out = func(*args, **kwargs)
        self.made.update(_key(t) for t in _tensors(out))
        return out


@dataclass
class Stats:
    captures: int = 0
    replays: int = 0
    reads: int = 0  # blocking reads of results back to the host (each may carry several tensors)
    uploads: int = 0
    streams: int = 0
    shapes: list[tuple[int, ...]] = field(default_factory=list)  # of every upload, in order


class StandInCuda(HostAccelerator):
    """CUDA's accelerator on the CPU: the engine's CUDA branch, with the capture rules enforced."""

    captures = True

    def __init__(self, device: torch.device, stats: Stats) -> None:
        super().__init__(device)
        self.stats = stats
        self.capturing = False

    def stream(self) -> Any:
        self.stats.streams += 1
        return object()

    def capture(self, step: Callable[[], None]) -> Callable[[], None]:
        rules = CaptureRules()
        self.capturing = True
        try:
            with rules:
                step()
        finally:
            self.capturing = False
            rules.undo()
        self.stats.captures += 1
        seen = set(rules.seen)

        def replay() -> None:
            self.stats.replays += 1
            with ReplayRules(seen):
                step()
        return replay

    def copy_back(self, host: torch.Tensor, value: torch.Tensor) -> Any:
        self._outside("copy_back")
        return super().copy_back(host, value)

    def read(self, *values: torch.Tensor) -> list[np.ndarray]:
        self._outside("read")
        self.stats.reads += 1
        return super().read(*values)

    def upload(self, array: np.ndarray) -> torch.Tensor:
        self._outside("upload")
        self.stats.uploads += 1
        self.stats.shapes.append(tuple(np.shape(array)))
        return super().upload(array)

    def _outside(self, what: str) -> None:
        if self.capturing:
            raise CaptureViolation(f"an accelerator {what} inside a capture (a host-device copy)")


def install(monkeypatch: pytest.MonkeyPatch) -> Stats:
    """Make every device's accelerator the stand-in (one Stats for all); returns the Stats."""
    stats = Stats()
    monkeypatch.setattr(accelerator_module, "accelerator_for", lambda device: StandInCuda(device, stats))
    for module in _users():
        monkeypatch.setattr(module, "accelerator_for", lambda device: StandInCuda(device, stats))
    return stats


def _users() -> list[Any]:
    """The modules that took ``accelerator_for`` by name."""
    import sys

    return [m for name, m in list(sys.modules.items())
            if name.startswith("vidstyle.") and m is not None and getattr(m, "accelerator_for", None) is not None
            and m is not accelerator_module]


@contextlib.contextmanager
def counting(stats: Stats) -> Iterator[Stats]:
    """The reads and uploads made inside the block (a fresh Stats view over the same counters)."""
    before = Stats(stats.captures, stats.replays, stats.reads, stats.uploads, stats.streams)
    delta = Stats()
    yield delta
    delta.captures = stats.captures - before.captures
    delta.replays = stats.replays - before.replays
    delta.reads = stats.reads - before.reads
    delta.uploads = stats.uploads - before.uploads
    delta.streams = stats.streams - before.streams
