"""What the command does about the process around it: stop signals and the standard streams.

* SIGTERM and SIGHUP (sent by kill, timeout, systemd, Docker, Ray, a closed terminal) stop a run the way
  Ctrl-C does: the same clean-up and resume line, then exit 128 + the signal's number (143, 129). The same
  signal again during the clean-up ends the process at once. A signal that was ignored when vidstyle
  started (nohup) stays ignored.
* A closed or full stdout/stderr never turns a result into a traceback or another exit code: writes to a
  stream that fails are dropped (stderr) or reported once on stderr with exit code 2 (stdout, when the
  command had something to say there); a reader that went away (``| head -c 5``) is not an error.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
from typing import Any

from ..errors import SignalStop

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class SignalState:
    """Which stop signal arrived first (None while none did)."""

    def __init__(self) -> None:
        self.received: int | None = None

    def install(self) -> None:
        """Turn SIGTERM and SIGHUP into SignalStop (a KeyboardInterrupt) in the main thread."""
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue  # nohup and friends asked for this one to be ignored
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None:
            if signum == self.received:  # sent again while cleaning up: the user insists, stop at once
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
            return  # another signal while stopping: let the clean-up finish
        self.received = signum
        raise SignalStop(signum)

    def exit_code(self) -> int | None:
        return None if self.received is None else 128 + self.received


class GuardedStream:
    """A text stream whose write/flush never raise: the first failure is kept in ``error`` and later writes
    are dropped. ``closed_at_start``: the file descriptor was closed when vidstyle started."""

    def __init__(self, stream: Any, fd: int | None, closed_at_start: bool) -> None:
        self._stream = stream
        self._fd = fd  # the descriptor behind the stream (None: not a file, e.g. a test's capture)
        self.error: OSError | None = OSError(errno.EBADF, "it is closed") if closed_at_start else None
        self.wrote = False

    def write(self, text: str) -> int:
        if text:
            self.wrote = True
        if self.error is None:
            try:
                return self._stream.write(text)
            except (OSError, ValueError) as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc if isinstance(exc, OSError) else OSError(errno.EBADF, "it is closed")
        # later writes (rich, the interpreter's own flush at exit) go nowhere instead of failing again
        if self._fd is None:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._fd)
            os.close(devnull)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _fd_closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def guard_streams() -> tuple[GuardedStream, GuardedStream]:
    """Replace sys.stdout and sys.stderr by GuardedStreams. A closed descriptor 0, 1 or 2 is first reopened on
    /dev/null, so no file vidstyle opens later (a lock, a frame) can take its number and receive output."""
    closed = {fd: _fd_closed(fd) for fd in (0, 1, 2)}
    for fd in (0, 1, 2):
        if closed[fd]:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    streams = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        current = getattr(sys, name)
        if isinstance(current, GuardedStream):
            streams.append(current)
            continue
        if current is None or closed[fd]:
            current = open(fd, "w", closefd=False, errors="backslashreplace")
        try:
            own_fd: int | None = current.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
            own_fd = None
        guarded = GuardedStream(current, own_fd, closed[fd])
        setattr(sys, name, guarded)
        streams.append(guarded)
    return streams[0], streams[1]


def stdout_failure(stdout: GuardedStream) -> str | None:
    """Why the command's output on stdout was lost (None: it was not, or the reader just went away)."""
    stdout.flush()
    if not stdout.wrote or stdout.error is None or stdout.error.errno == errno.EPIPE:
        return None
    return stdout.error.strerror or str(stdout.error)
