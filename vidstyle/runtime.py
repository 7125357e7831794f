"""Device selection and the mixed-precision fast path."""
from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from .errors import VidstyleError


def select_device(name: str) -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU. An explicit device that is not available is a VidstyleError."""
    mps_ok = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    elif name == "cuda" and not torch.cuda.is_available():
        raise VidstyleError("--device cuda requested but no CUDA GPU is available (try --device cpu)")
    elif name == "mps" and not mps_ok:
        raise VidstyleError("--device mps requested but Apple MPS is not available (try --device cpu)")
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed frame size: let cuDNN pick the fastest kernels
    return device


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
