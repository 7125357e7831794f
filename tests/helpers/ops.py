"""Counting the aten ops a piece of code dispatches (TorchDispatchMode), for the engine's per-pass counts."""
from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

SYNC = "aten._local_scalar_dense"  # .item(), bool(), float(), .tolist() of a device tensor: the host waits
UPLOAD = "aten.lift_fresh"  # torch.tensor(python values) inside traced code: a host-to-device copy


def _storages(values: Any) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in tree_leaves(values)
            if isinstance(t, torch.Tensor) and t.device.type != "meta"}


class OpCounter(TorchDispatchMode):
    """``ops``: every aten op by name; ``kernels``: ops whose output does not alias an input (views, in-place
    and out= ops excluded); ``writes``: in-place ops (they alias their input but still run a kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()
        self.kernels: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        inputs = _storages((args, kwargs))
        out = func(*args, **kwargs)
        name = str(func.overloadpacket._qualified_op_name).replace("::", ".")
        self.ops[name] += 1
        outputs = _storages(out)
        if outputs and not (outputs & inputs):
            self.kernels[name] += 1
        elif outputs and func._schema.is_mutable:
            self.writes[name] += 1
        return out

    def count(self, name: str) -> int:
        return self.ops[name]

    def totals(self) -> dict[str, int]:
        return {"kernels": sum(self.kernels.values()), "writes": sum(self.writes.values()),
                "syncs": self.ops[SYNC], "uploads": self.ops[UPLOAD]}
