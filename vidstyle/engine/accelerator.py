"""What a CUDA device does differently, behind one object: side streams, graph capture and replay, events,
pinned host memory, and the blocking read of results back to the host.

The engine never calls ``torch.cuda`` itself; it asks ``accelerator_for(device)``. On CUDA that is
``CudaAccelerator``; on the CPU and MPS it is ``HostAccelerator``, which captures nothing and reads as
plain copies. The CUDA branch is then the same engine code with another accelerator, so the suite runs it
on the CPU with stand-ins (tests/helpers/capture.py) that fail on whatever a real capture forbids.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager, Sequence

import numpy as np
import torch

Replay = Callable[[], None]


class HostAccelerator:
    """The CPU and MPS: no graphs, no side streams; a read is a copy that is done when it returns."""

    captures = False  # one pass may be captured once and replayed (CUDA graphs)

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def stream(self) -> Any:
        """A side stream for warm-up passes (None: the default one)."""
        return None

    def on_stream(self, stream: Any) -> ContextManager:
        """Work queued inside runs on ``stream`` after everything queued before on the current stream."""
        return contextlib.nullcontext()

    def capture(self, step: Callable[[], None]) -> Replay:
        """``step`` recorded once, returned as a function that replays it (host: ``step`` itself)."""
        return step

    def pinned(self, shape: Sequence[int], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """A host buffer a device copy can land in without blocking (page-locked on CUDA)."""
        return torch.zeros(tuple(shape), dtype=dtype)

    def copy_back(self, host: torch.Tensor, value: torch.Tensor) -> Any:
        """Start copying ``value`` into the pinned ``host`` buffer behind the queued work; returns a token
        whose ``query()`` says whether it has landed (host: at once)."""
        host.copy_(value)
        return _Done()

    def read(self, *values: torch.Tensor) -> list[np.ndarray]:
        """The one blocking read: every tensor in ``values`` copied to the host together (one wait)."""
        return [v.detach().cpu().numpy() for v in values]

    def upload(self, array: np.ndarray) -> torch.Tensor:
        """A host array on the device (from page-locked memory without blocking on CUDA)."""
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def release(self) -> None:
        """Give cached device memory back (after graphs are dropped)."""


class _Done:
    @staticmethod
    def query() -> bool:
        return True


class CudaAccelerator(HostAccelerator):
    """torch.cuda's streams, graphs, events and pinned memory."""

    captures = True

    def stream(self) -> Any:
        return torch.cuda.Stream(self.device)

    def on_stream(self, stream: Any) -> ContextManager:
        return _side_stream(stream)

    def capture(self, step: Callable[[], None]) -> Replay:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        return graph.replay

    def pinned(self, shape: Sequence[int], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.zeros(tuple(shape), dtype=dtype, pin_memory=True)

    def copy_back(self, host: torch.Tensor, value: torch.Tensor) -> Any:
        host.copy_(value, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        return event

    def read(self, *values: torch.Tensor) -> list[np.ndarray]:
        hosts = [self.pinned(v.shape, v.dtype) for v in values]
        for host, value in zip(hosts, values):
            host.copy_(value.detach(), non_blocking=True)
        torch.cuda.current_stream(self.device).synchronize()  # the one wait
        return [h.numpy() for h in hosts]

    def upload(self, array: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(array)).pin_memory()
        return host.to(self.device, non_blocking=True)

    def release(self) -> None:
        torch.cuda.empty_cache()


@contextlib.contextmanager
def _side_stream(stream: Any):  # noqa: ANN202 - a context manager
    stream.wait_stream(torch.cuda.current_stream(stream.device))
    with torch.cuda.stream(stream):
        yield
    torch.cuda.current_stream(stream.device).wait_stream(stream)


def accelerator_for(device: torch.device) -> HostAccelerator:
    """The accelerator of ``device`` (tests replace this function to run the CUDA branch on the CPU)."""
    return CudaAccelerator(device) if device.type == "cuda" else HostAccelerator(device)
