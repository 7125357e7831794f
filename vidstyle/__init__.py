"""vidstyle: the neural algorithm of artistic style (Gatys, Ecker & Bethge) for images, videos and webcams."""
from __future__ import annotations

import importlib
from typing import Any

# Public names and the modules that define them. They are imported on first use, so `import vidstyle` (and
# the `vidstyle` command's start) stays light: a Ctrl-C while torch and OpenCV load reaches the CLI's own
# handler instead of printing an import traceback.
_EXPORTS = {"stylize_image": ".api", "stylize_frame": ".api", "stylize_video": ".api", "run_live": ".api",
            "PRESETS": ".config", "Config": ".config", "VidstyleError": ".errors", "Stylizer": ".engine",
            "StylizeResult": ".engine", "build_stylizer": ".compose", "FrameUpdate": ".video",
            "VideoInterrupted": ".video"}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vidstyle' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
