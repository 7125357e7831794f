"""The mixed-precision fast path (the device itself is chosen once, by compose.select_device)."""
from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from .errors import VidstyleError


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The dtype the network runs in under autocast, or None for plain float32.

    auto = float32 everywhere: on CUDA, convolutions already run on TF32 tensor cores, and bf16 autocast was
    no faster at 512 px on an H100 while its loss noise stalled L-BFGS at 1024 px
    (benchmarks/bench_precision.py). bf16/fp16 stay available on request; Grams and losses are float32.
    """
    if precision in ("auto", "fp32"):
        return None
    if device.type == "cpu" and precision == "fp16":
        raise VidstyleError("--precision fp16 needs a GPU; use fp32 or bf16 on CPU")
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def autocast(device: torch.device, dtype: torch.dtype | None) -> ContextManager:
    """Autocast context for the network forward pass (a no-op when dtype is None)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
