"""Joining or starting the Ray of a distributed run, and leaving nothing behind of a Ray it started.

A Ray started here (plain ``--ray``) runs with a private temporary folder, ``vidstyle-ray-XXXXXXXX`` under
``$RAY_TMPDIR`` or ``/tmp``, removed once ``ray.shutdown()`` has stopped Ray's processes, on success, error
and interrupt alike (Ray's default left a ``session_*`` folder of logs and sockets in ``/tmp/ray`` after every
run). Joining a cluster removes nothing. Whatever ``ray.init`` raises is one VidstyleError naming the address.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import VidstyleError
from .address import RayAddress
from .ray_options import RayOptions

TEMP_PREFIX = "vidstyle-ray-"
# Ray puts Unix sockets ~64 bytes below its temporary folder (session_<date>_<pid>/sockets/plasma_store) and a
# socket path holds at most 107: the folder's own path may take 40.
TEMP_PATH_ROOM = 40
INIT_ERRORS = (ConnectionError, ValueError, TimeoutError, RuntimeError)  # what ray.init raises on a bad cluster


def private_temp_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """A new, empty folder for a local Ray's session, under ``$RAY_TMPDIR`` when that is short enough for
    Ray's sockets, else ``/tmp`` or the system's temporary folder."""
    name_room = len(TEMP_PREFIX) + 9  # "/" + mkdtemp's 8 characters
    for base in (environ.get("RAY_TMPDIR"), "/tmp", tempfile.gettempdir()):
        if not base or not os.path.isdir(base) or not os.access(base, os.W_OK | os.X_OK):
            continue
        base = os.path.abspath(base)
        if len(os.fsencode(base)) + name_room <= TEMP_PATH_ROOM:
            return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base))
    raise VidstyleError(f"no writable temporary folder with a path short enough for Ray's sockets (at most "
                        f"{TEMP_PATH_ROOM - name_room} bytes); set RAY_TMPDIR to one, e.g. /tmp")


@contextlib.contextmanager
def ray_session(ray: Any, options: RayOptions, address: RayAddress | None, quiet: bool) -> Iterator[None]:
    """Ray for the run: joined at ``address`` or started here (``address.local``), shut down after; None
    (a Ray the caller had already initialised) uses that one and leaves it running."""
    if address is None:
        yield
        return
    temp = private_temp_dir() if address.local else None
    try:
        with _own_signals(), _quiet_output(quiet):
            try:
                ray.init(**options.init_arguments(address.init, temp))
            except INIT_ERRORS as exc:
                raise VidstyleError(_init_failure(address, exc)) from None
        yield
    finally:
        try:
            # a Ray started here: wait for its processes, which write into the folder until they exit
            ray.shutdown(wait_for_processes=temp is not None)
        finally:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)


def _init_failure(address: RayAddress, exc: BaseException) -> str:
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    if address.local:
        return f"cannot start a local Ray: {first}"
    return (f"cannot join the Ray cluster at {address.where}: {first}; check that a Ray cluster of the same "
            "version runs there, or use --ray alone for a local Ray")


@contextlib.contextmanager
def _own_signals() -> Iterator[None]:
    """Keep vidstyle's SIGINT/SIGTERM/SIGHUP handling across ray.init, which installs its own (a SIGTERM
    would exit with Ray's C++ stack dump instead of stopping cleanly with the resume line)."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():
            for signum, handler in saved.items():
                if handler is not None:
                    signal.signal(signum, handler)


@contextlib.contextmanager
def _quiet_output(quiet: bool) -> Iterator[None]:
    """--quiet: Ray's own start-up lines (its banner, token notes) written to stdout/stderr go nowhere."""
    if not quiet:
        yield
        return
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
