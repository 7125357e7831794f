"""Entry point of the `vidstyle` command: dispatch, one-line errors, exit codes.

The commands (and with them torch and OpenCV, ~2 s) are imported inside ``main``'s error handling, so a
Ctrl-C during start-up is reported like any other interruption: one line, exit code 130 (SIGTERM and
SIGHUP likewise, 143 and 129; vidstyle/cli/guard.py).
"""
from __future__ import annotations

import importlib
import signal
import sys

from ..errors import VidstyleError
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
    except Exception as exc:  # noqa: BLE001 - only allocation failures are handled, the rest re-raised
        if not _out_of_memory(exc):
            raise
        sys.stderr.write("vidstyle: error: out of memory at this --size; try a smaller --size (or --device cpu "
                         "for a GPU with little memory)\n")
        return 2


def one_line(text: str) -> str:
    """A message as one line even when a file name in it holds a line break or another control character."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _out_of_memory(exc: BaseException) -> bool:
    """True for the allocation failures of Python, PyTorch (CPU and CUDA) and OpenCV."""
    if not isinstance(exc, (MemoryError, RuntimeError)) and type(exc).__module__ != "cv2":
        return False
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "out of memory" in text or "can't allocate memory" in text \
        or "insufficient memory" in text


if __name__ == "__main__":
    sys.exit(main())
