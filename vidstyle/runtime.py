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
    (benchmarks/bench_precision.py). bf16 stays available on request; Grams and losses are float32.

    fp16 is refused: with the objective normalised to about 1 the network's gradients are tiny (medians 2e-9
    to 2e-8 per VGG layer at 128 px, about 16 times smaller at 512 px), so 97-100 % of them lie below fp16's
    smallest subnormal (6e-8) and flush to zero; bf16 has float32's range and keeps them.
    """
    if precision in ("auto", "fp32"):
        return None
    if precision == "fp16":
        raise VidstyleError("--precision fp16 would flush the network's gradients to zero (they lie below fp16's "
                            "smallest number); use --precision bf16 (float32's range) or fp32")
    return {"bf16": torch.bfloat16}[precision]


def autocast(device: torch.device, dtype: torch.dtype | None) -> ContextManager:
    """Autocast context for the network forward pass (a no-op when dtype is None)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
