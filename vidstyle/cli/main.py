"""Entry point of the `vidstyle` command: dispatch, one-line errors, exit codes.

The commands (and with them torch and OpenCV, ~2 s) are imported inside ``main``'s error handling, so a
Ctrl-C during start-up is reported like any other interruption: one line, exit code 130 (SIGTERM and
SIGHUP likewise, 143 and 129; vidstyle/cli/guard.py).
"""
from __future__ import annotations

import errno
import importlib
import resource
import signal
import sys

from ..errors import VidstyleError, one_line
from .guard import STOP_SIGNALS, SignalState, guard_streams, stdout_failure

# Subcommands by first word; anything else is the default CONTENT STYLE OUTPUT command.
SUBCOMMANDS = {"live": "live", "metrics": "metrics"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns 0 on success, 2 on bad input or usage, 130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP."""
    argv = sys.argv[1:] if argv is None else list(argv)
    saved_streams = sys.stdout, sys.stderr
    stdout, _ = guard_streams()  # before anything can write: a closed or full stream never raises
    signals = SignalState()
    saved_handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        signals.install()
        code = _run(argv, signals)
        failure = stdout_failure(stdout)
        if failure is not None and code == 0:
            sys.stderr.write(f"vidstyle: error: cannot write the result to stdout: {failure}\n")
            code = 2
        stopped = signals.exit_code()  # live mode ends its session normally on a signal, as on Ctrl-C
        return stopped if stopped is not None and code == 0 else code
    finally:
        for signum, handler in saved_handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
        sys.stdout, sys.stderr = (new if old is None else old for old, new in zip(saved_streams, (sys.stdout, sys.stderr)))


def _run(argv: list[str], signals: SignalState) -> int:
    """Dispatch to the command; every failure the user can act on becomes one line and its exit code."""
    name = SUBCOMMANDS.get(argv[0]) if argv else None
    try:
        from ..io.environment import check_environment  # light: before OpenCV and torch read the variables

        check_environment()
        command = importlib.import_module(f".{name or 'stylize'}", __package__)
        return command.run(argv[1:] if name else argv)
    except VidstyleError as exc:
        sys.stderr.write(f"vidstyle: error: {one_line(str(exc))}\n")
        return 2
    except KeyboardInterrupt as exc:
        detail = f": {one_line(str(exc))}" if str(exc) else ""
        if signals.received is not None:
            sys.stderr.write(f"vidstyle: stopped by {signal.Signals(signals.received).name}{detail}\n")
            return 128 + signals.received
        sys.stderr.write(f"vidstyle: interrupted{detail}\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - only the machine's limits are handled, the rest re-raised
        message = resource_failure(exc)
        if message is None:
            raise
        sys.stderr.write(f"vidstyle: error: {message}\n")
        return 2


# the packages vidstyle cannot start without, by import name, as pip installs them
_DEPENDENCIES = {"torch": "torch", "cv2": "opencv-python", "numpy": "numpy", "imageio_ffmpeg": "imageio-ffmpeg",
                 "rich": "rich"}


def resource_failure(exc: BaseException) -> str | None:
    """The one line for a failure that comes from the machine's limits or a broken install rather than from
    vidstyle (out of memory, ``ulimit -v`` too low to load torch or OpenCV, ``ulimit -n`` too low, a missing
    dependency); None for anything else, which stays a traceback (a bug to report)."""
    if _out_of_memory(exc) or (_address_space_limited() and "could not create a primitive" in str(exc)):
        return "out of memory at this --size; try a smaller --size (or --device cpu for a GPU with little memory)"
    if isinstance(exc, ImportError):
        text = str(exc)
        if "failed to map segment" in text or "cannot allocate memory" in text.lower():
            library = text.split(":", 1)[0]
            return (f"not enough memory to load {library} (torch and OpenCV need about 1 GB of address space); "
                    "raise the memory limit (ulimit -v) or free memory")
        top = (exc.name or "").split(".")[0]
        if isinstance(exc, ModuleNotFoundError) and top in _DEPENDENCIES:
            return f"vidstyle needs {_DEPENDENCIES[top]}, which is not installed: pip install {_DEPENDENCIES[top]}"
        return None
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        scope = "this process's limit" if exc.errno == errno.EMFILE else "the system's limit"
        return (f"too many open files ({scope}; ulimit -n is {soft}): raise it, e.g. ulimit -n 1024, and run "
                "again")
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return "out of memory; free memory or try a smaller --size"
    return None


def _address_space_limited() -> bool:
    """A ``ulimit -v`` is set: oneDNN then reports a failed allocation as "could not create a primitive"."""
    from ..io.environment import address_space_limit

    return address_space_limit() is not None


def _out_of_memory(exc: BaseException) -> bool:
    """True for the allocation failures of Python, PyTorch (CPU and CUDA) and OpenCV."""
    if not isinstance(exc, (MemoryError, RuntimeError)) and type(exc).__module__ != "cv2":
        return False
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text \
        or "insufficient memory" in text


if __name__ == "__main__":
    sys.exit(main())
