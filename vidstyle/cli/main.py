"""Entry point of the `vidstyle` command: dispatch, one-line errors, exit codes."""
from __future__ import annotations

import sys
from typing import Callable

import cv2

from ..errors import VidstyleError
from . import live, metrics, stylize

# Subcommands by first word; anything else is the default CONTENT STYLE OUTPUT command.
SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {"live": live.run, "metrics": metrics.run}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns 0 on success, 2 on bad input or usage, 130 when interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = SUBCOMMANDS.get(argv[0]) if argv else None
    try:
        return command(argv[1:]) if command else stylize.run(argv)
    except VidstyleError as exc:
        sys.stderr.write(f"vidstyle: error: {exc}\n")
        return 2
    except (MemoryError, RuntimeError, cv2.error) as exc:
        if not _out_of_memory(exc):
            raise
        sys.stderr.write("vidstyle: error: out of memory at this --size; try a smaller --size (or --device cpu "
                         "for a GPU with little memory)\n")
        return 2
    except KeyboardInterrupt as exc:
        sys.stderr.write(f"vidstyle: interrupted{': ' + str(exc) if str(exc) else ''}\n")
        return 130


def _out_of_memory(exc: BaseException) -> bool:
    """True for the allocation failures of Python, PyTorch (CPU and CUDA) and OpenCV."""
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text \
        or "insufficient memory" in text


if __name__ == "__main__":
    sys.exit(main())
