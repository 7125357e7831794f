"""Environment variables that OpenCV and torch read, checked before they read them.

OpenCV's C++ aborts the process (SIGABRT, no message vidstyle can catch) on a pixel limit it cannot parse,
such as ``OPENCV_IO_MAX_IMAGE_PIXELS=abc`` (the variable vidstyle's own pixel-limit message names); torch
and the weights download need ``TORCH_HOME`` to be a folder; ``VIDSTYLE_WEIGHTS`` must name a file. Each bad
value is one line naming the variable (docs/safety.md).
"""
from __future__ import annotations

import os
import re
import resource

from ..errors import VidstyleError

# OpenCV's size parameters: decimal digits with an optional KB or MB suffix (its parser: anything else aborts)
OPENCV_SIZE_VARIABLES = ("OPENCV_IO_MAX_IMAGE_PIXELS", "OPENCV_IO_MAX_IMAGE_WIDTH", "OPENCV_IO_MAX_IMAGE_HEIGHT")
_OPENCV_SIZE = re.compile(r"^([0-9]+)(KB|MB)?$")
_checked: dict[str, str | None] = {}
# The address space below which torch and OpenCV fail to load or to run the smallest job, each in its own way
# (an ImportError, a segmentation fault inside OpenCV's loader, std::bad_alloc, oneDNN's "could not create a
# primitive"): measured on the CPU build, a 32 px image ran at 1.3 GB and a 64 px video needed 1.8 GB; the
# floor keeps room above that. Below it the run is refused before anything loads.
ADDRESS_SPACE_FLOOR = 2 << 30


def check_environment() -> None:
    """Raise VidstyleError for a variable OpenCV or torch would choke on (checked once per value), or a
    current folder that no longer exists (relative paths mean nothing there, and oneMKL aborts the process
    with "Cannot load libtorch_cpu.so" while torch loads)."""
    try:
        os.getcwd()
    except OSError:
        raise VidstyleError("the current folder no longer exists (deleted or moved away); cd into an existing "
                            "folder and run again") from None
    check_address_space()
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


def address_space_limit() -> int | None:
    """The process's soft address-space limit in bytes (``ulimit -v``), None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def check_address_space() -> None:
    """Refuse a ``ulimit -v`` too small to load torch and OpenCV (they crash or abort in ways no handler can
    turn into one line)."""
    limit = address_space_limit()
    if limit is not None and limit < ADDRESS_SPACE_FLOOR:
        raise VidstyleError(f"the address-space limit (ulimit -v) is {limit >> 20} MB; torch and OpenCV need at "
                            f"least {ADDRESS_SPACE_FLOOR >> 20} MB to load and run: raise it "
                            f"(ulimit -v {ADDRESS_SPACE_FLOOR >> 10}, or unlimited)")
