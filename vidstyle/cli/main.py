"""Entry point of the `vidstyle` command: dispatch, one-line errors, exit codes.

The commands (and with them torch and OpenCV, ~2 s) are imported inside ``main``'s error handling, so a
Ctrl-C during start-up is reported like any other interruption: one line, exit code 130.
"""
from __future__ import annotations

import importlib
import sys

from ..errors import VidstyleError

# Subcommands by first word; anything else is the default CONTENT STYLE OUTPUT command.
SUBCOMMANDS = {"live": "live", "metrics": "metrics"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns 0 on success, 2 on bad input or usage, 130 when interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    name = SUBCOMMANDS.get(argv[0]) if argv else None
    try:
        command = importlib.import_module(f".{name or 'stylize'}", __package__)
        return command.run(argv[1:] if name else argv)
    except VidstyleError as exc:
        sys.stderr.write(f"vidstyle: error: {exc}\n")
        return 2
    except KeyboardInterrupt as exc:
        sys.stderr.write(f"vidstyle: interrupted{': ' + str(exc) if str(exc) else ''}\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - only allocation failures are handled, the rest re-raised
        if not _out_of_memory(exc):
            raise
        sys.stderr.write("vidstyle: error: out of memory at this --size; try a smaller --size (or --device cpu "
                         "for a GPU with little memory)\n")
        return 2


def _out_of_memory(exc: BaseException) -> bool:
    """True for the allocation failures of Python, PyTorch (CPU and CUDA) and OpenCV."""
    if not isinstance(exc, (MemoryError, RuntimeError)) and type(exc).__module__ != "cv2":
        return False
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text \
        or "insufficient memory" in text


if __name__ == "__main__":
    sys.exit(main())
