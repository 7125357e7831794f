"""Every closed set of option values, defined once: Config validates against these, the CLI offers them as
choices, and the modules that act on a value take it from here rather than spelling it again."""
from __future__ import annotations

from .errors import VidstyleError

POOLINGS = ("avg", "max")  # VGG pooling; avg is the paper's choice
WEIGHT_FORMATS = ("auto", "torchvision", "caffe")  # the checkpoint's input convention
OPTIMIZERS = ("lbfgs", "adam")
INIT_MODES = ("content", "noise")  # or the path of an image
DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:N, one GPU of several (check_device)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
COLOR_MODES = ("none", "luminance", "histogram")  # --preserve-colors
TEMPORAL_MODES = ("none", "warm", "flow")
FLOW_QUALITIES = ("fast", "medium", "fine")
ORPHAN_POLICIES = ("error", "whole")  # a content label missing from the style mask
# why an optimisation ended (--report's "stopped"): its look stopped changing (engine/convergence.py), or
# every pass of its budget was spent
CONVERGED, CAP = "converged", "cap"


def choose(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``allowed``; else the one error message every option shares."""
    if value not in allowed:
        raise VidstyleError(f"unsupported {name.replace('_', '-')} {value!r}; choose from {', '.join(allowed)}")
    return value
LOSS_UNITS = ("scaled", "paper")  # scale-free terms (README "Loss units"), or eq. 1/4 exactly as printed


def check_device(value: str) -> str:
    """A --device: one of DEVICES or ``cuda:N`` (the N-th CUDA GPU); else the one error message."""
    if value in DEVICES or (value.startswith("cuda:") and value[5:].isdigit() and value[5:].isascii()):
        return value
    raise VidstyleError(f"unsupported device {value!r}; choose from {', '.join(DEVICES)}, or cuda:N for one GPU "
                        "of several")
