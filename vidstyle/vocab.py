"""Every closed set of option values, defined once: Config validates against these, the CLI offers them as
choices, and the modules that act on a value take it from here rather than spelling it again."""
from __future__ import annotations

from .errors import VidstyleError

POOLINGS = ("avg", "max")  # VGG pooling; avg is the paper's choice
WEIGHT_FORMATS = ("auto", "torchvision", "caffe")  # the checkpoint's input convention
OPTIMIZERS = ("lbfgs", "adam")
INIT_MODES = ("content", "noise")  # or the path of an image
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
COLOR_MODES = ("none", "luminance", "histogram")  # --preserve-colors
TEMPORAL_MODES = ("none", "warm", "flow")
FLOW_QUALITIES = ("fast", "medium", "fine")
ORPHAN_POLICIES = ("error", "whole")  # a content label missing from the style mask


def choose(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``allowed``; else the one error message every option shares."""
    if value not in allowed:
        raise VidstyleError(f"unsupported {name.replace('_', '-')} {value!r}; choose from {', '.join(allowed)}")
    return value
LOSS_UNITS = ("scaled", "paper")  # scale-free terms (README "Loss units"), or eq. 1/4 exactly as printed
