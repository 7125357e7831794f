"""Environment variables that OpenCV and torch read, checked before they read them.

OpenCV's C++ aborts the process (SIGABRT, no message vidstyle can catch) on a pixel limit it cannot parse,
such as ``OPENCV_IO_MAX_IMAGE_PIXELS=abc`` (the variable vidstyle's own pixel-limit message names); torch
and the weights download need ``TORCH_HOME`` to be a folder; ``VIDSTYLE_WEIGHTS`` must name a file. Each bad
value is one line naming the variable (docs/safety.md).
"""
from __future__ import annotations

import os
import re

from ..errors import VidstyleError

# OpenCV's size parameters: decimal digits with an optional KB or MB suffix (its parser: anything else aborts)
OPENCV_SIZE_VARIABLES = ("OPENCV_IO_MAX_IMAGE_PIXELS", "OPENCV_IO_MAX_IMAGE_WIDTH", "OPENCV_IO_MAX_IMAGE_HEIGHT")
_OPENCV_SIZE = re.compile(r"^([0-9]+)(KB|MB)?$")
_checked: dict[str, str | None] = {}


def check_environment() -> None:
    """Raise VidstyleError for a variable OpenCV or torch would choke on (checked once per value)."""
    for name in OPENCV_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value is None or _checked.get(name) == value:
            continue
        m = _OPENCV_SIZE.match(value)
        number = int(m.group(1)) * {None: 1, "KB": 1 << 10, "MB": 1 << 20}[m.group(2)] if m else 0
        if not 0 < number < 1 << 64:
            raise VidstyleError(f"{name}={value!r} is not a positive whole number (optionally with KB or MB), "
                                f"e.g. {name}=2000000000; fix or unset it")
        _checked[name] = value
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home and os.path.exists(os.path.expanduser(torch_home)) \
            and not os.path.isdir(os.path.expanduser(torch_home)):
        raise VidstyleError(f"TORCH_HOME={torch_home!r} is not a folder (torch keeps its cache and the downloaded "
                            "weights there); fix or unset it")
    weights = os.environ.get("VIDSTYLE_WEIGHTS")
    if weights and os.path.isdir(os.path.expanduser(weights)):
        raise VidstyleError(f"VIDSTYLE_WEIGHTS={weights!r} is a folder; set it to a VGG-19 checkpoint file")
    url = os.environ.get("VIDSTYLE_WEIGHTS_URL")
    if url is not None and not re.match(r"^(https?|file)://\S+$", url):
        raise VidstyleError(f"VIDSTYLE_WEIGHTS_URL={url!r} is not an http(s):// or file:// URL")
