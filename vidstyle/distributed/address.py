"""Where a ``--ray`` run's cluster is: the address forms Ray accepts, checked in a few seconds before ``ray.init``.

``ray.init`` on a bad address raised a ValueError, on an unreachable one it retried for 20 s to several minutes
before a ConnectionError, and ``auto`` without a cluster raised a ConnectionError: all as tracebacks.
``check_address`` parses the forms below and, for a cluster to join, finds it the way Ray does and opens one
TCP connection to it within ``PROBE_SECONDS``, in which it must answer as a gRPC server does (``probe``); every
failure is one VidstyleError naming the address and what to do.

* none (plain ``--ray``) or ``local``: start a local Ray in this process (nothing to check);
* ``HOST:PORT`` (``[IPv6]:PORT``): a cluster's GCS, e.g. ``10.0.0.5:6379``;
* ``ray://HOST[:PORT]``: Ray Client (port 10001 by default);
* ``auto``: ``$RAY_ADDRESS`` when set, else the address the last ``ray start`` on this machine wrote to
  ``ray_current_cluster`` in Ray's temporary folder, as Ray looks for it; Ray's last resort, any Ray whose
  processes run here (another program's own, started by its ray.init), is named in the error, not joined.
"""
from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from ..errors import VidstyleError

PROBE_SECONDS = 3.0  # how long the reachability check waits for the cluster to answer
CLIENT_PORT = 10001  # Ray Client's default port (ray://HOST)
BOOTSTRAP_FILE = "ray_current_cluster"  # where `ray start` leaves the address of the cluster it started
# the HTTP/2 client preface and an empty SETTINGS frame (length 0, type 4, no flags, stream 0)
HTTP2_GREETING = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_FRAME = 4  # the type byte of an HTTP/2 SETTINGS frame (the 4th of its 9-byte header)
NOT_GRPC = "not gRPC"
FORMS = "auto, HOST:PORT (e.g. 10.0.0.5:6379), ray://HOST:10001, or --ray alone for a local Ray"
_HOST = r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9_.-]+))"  # a name, IPv4, or [IPv6]
_HOST_PORT = re.compile(rf"^{_HOST}:(?P<port>[0-9]{{1,5}})$")
_HOST_ONLY = re.compile(rf"^{_HOST}$")


@dataclass(frozen=True)
class RayAddress:
    """A parsed ``--ray`` address: what ``ray.init`` gets and, for a cluster to join, where it listens."""

    given: str | None  # as typed (None: plain --ray)
    init: str  # the ``address`` given to ray.init: "local", "auto", "HOST:PORT" or "ray://HOST:PORT"
    host: str | None = None  # None: a local Ray started by this run
    port: int | None = None
    client: bool = False  # ray://: Ray Client
    found_in: str | None = None  # for auto: where the address came from ($RAY_ADDRESS, the bootstrap file, ...)

    @property
    def local(self) -> bool:
        """True when this run starts Ray itself (and owns its temporary folder)."""
        return self.host is None

    @property
    def where(self) -> str:
        """The address for messages: ``host:port`` (with where auto found it)."""
        if self.local:
            return "a local Ray"
        shown = f"[{self.host}]:{self.port}" if ":" in str(self.host) else f"{self.host}:{self.port}"
        if self.client:
            shown = "ray://" + shown
        return f"{shown} ({self.found_in})" if self.found_in else shown


def parse_address(text: str | None) -> RayAddress:
    """The address forms Ray accepts (``auto`` unresolved); a VidstyleError naming the forms for anything else."""
    if text is None or text.strip() in ("", "local"):
        return RayAddress(text, "local")
    text = text.strip()
    if text == "auto":
        return RayAddress(text, "auto")
    body, client = (text[len("ray://"):], True) if text.startswith("ray://") else (text, False)
    if client and _HOST_ONLY.match(body):  # ray://HOST: Ray Client's default port
        body += f":{CLIENT_PORT}"
    match = _HOST_PORT.match(body)
    port = int(match["port"]) if match else 0
    if match is None or not 0 < port < 65536:
        hint = "; a URL of the dashboard or jobs API (http://) is not a cluster address" \
            if text.startswith(("http://", "https://")) else ""
        raise VidstyleError(f"--ray={text} is not a Ray address: use {FORMS}{hint}")
    host = match["v6"] or match["host"]
    shown = f"[{host}]:{port}" if match["v6"] else f"{host}:{port}"
    return RayAddress(text, ("ray://" if client else "") + shown, host, port, client)


def ray_temp_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Ray's default temporary folder, where ``ray start`` writes the bootstrap file (as Ray picks it)."""
    if environ.get("RAY_TMPDIR"):
        base = environ["RAY_TMPDIR"]
    elif sys.platform.startswith("linux") and environ.get("TMPDIR"):
        base = environ["TMPDIR"]
    else:
        base = "/tmp"
    return Path(base) / "ray"


def running_gcs_addresses() -> Iterable[str]:
    """Addresses of the Rays whose processes run on this machine (Ray's own last resort for ``auto``)."""
    try:
        from ray._private.services import find_gcs_addresses  # noqa: PLC0415 - private, may move

        return sorted(find_gcs_addresses())
    except Exception:  # noqa: BLE001 - not found where it used to be: no discovery, the other sources remain
        return ()


def resolve_auto(environ: Mapping[str, str] = os.environ,
                 discover: Callable[[], Iterable[str]] | None = None) -> RayAddress:
    """Where ``--ray=auto`` goes, found as Ray finds it; VidstyleError when there is no cluster to join.
    ``discover`` lists the Rays running here (default: ``running_gcs_addresses``), for the message."""
    env = environ.get("RAY_ADDRESS", "").strip()
    if env and env != "auto":
        try:
            found = parse_address(env)
        except VidstyleError:
            raise VidstyleError(f"--ray=auto uses $RAY_ADDRESS, which is {env!r}, not a Ray address: set it to "
                                f"HOST:PORT or ray://HOST:10001, or unset it") from None
        if found.local:
            raise VidstyleError("--ray=auto with RAY_ADDRESS=local: use --ray alone for a local Ray")
        return _found(found, "from $RAY_ADDRESS")
    bootstrap = ray_temp_dir(environ) / BOOTSTRAP_FILE
    try:
        text = bootstrap.read_text().strip()
    except OSError:
        text = ""
    if text:
        try:
            return _found(parse_address(text), f"from {bootstrap}")
        except VidstyleError:
            raise VidstyleError(f"--ray=auto read {text!r} from {bootstrap}, which is not a Ray address; `ray stop` "
                                "clears it, or give the cluster's address (--ray=HOST:6379)") from None
    # Ray's last resort would join any Ray whose processes run here: one another program started with ray.init
    # for itself, which ends with that program (a run that joined one died with it, exit 1). Named, not joined.
    others = list((discover or running_gcs_addresses)())
    seen = f"; the Ray at {', '.join(others)} runs for another program, not as a cluster (give its address to " \
        "join it anyway)" if others else ""
    raise VidstyleError(f"--ray=auto found no running Ray cluster ($RAY_ADDRESS is not set and there is no "
                        f"{bootstrap}){seen}; start one (`ray start --head`), give its address (--ray=HOST:6379), "
                        "or use --ray alone for a local Ray")


def check_address(text: str | None, timeout: float | None = None, environ: Mapping[str, str] = os.environ,
                  discover: Callable[[], Iterable[str]] | None = None) -> RayAddress:
    """Parse ``--ray``'s address, resolve ``auto`` and, for a cluster to join, check within ``timeout`` seconds
    (``PROBE_SECONDS``) that a gRPC server answers there (``probe``); VidstyleError otherwise."""
    address = parse_address(text)
    if address.init == "auto":
        address = resolve_auto(environ, discover)
    if not address.local:
        probe(address, PROBE_SECONDS if timeout is None else timeout)
    return address


def probe(address: RayAddress, timeout: float, environ: Mapping[str, str] = os.environ) -> None:
    """Within ``timeout`` seconds (name lookup included): one TCP connection to the cluster, and, unless Ray
    uses TLS, the HTTP/2 greeting every gRPC server (Ray's GCS and Ray Client) answers with its settings
    frame; VidstyleError otherwise. A port that accepts but never answers (or is a web server, such as the
    dashboard's 8265) would hold ``ray.init`` for minutes."""
    assert address.host is not None and address.port is not None
    tls = environ.get("RAY_USE_TLS", "0").lower() in ("1", "true")
    outcome: list[object] = []  # None: a gRPC server answered; NOT_GRPC; or the exception

    def attempt() -> None:
        try:
            deadline = time.monotonic() + timeout
            with socket.create_connection((address.host, address.port), timeout=timeout) as conn:
                if not tls:
                    conn.settimeout(max(0.01, deadline - time.monotonic()))
                    conn.sendall(HTTP2_GREETING)
                    reply = b""
                    while len(reply) < 4 and (part := conn.recv(9 - len(reply))):
                        reply += part
                    outcome.append(None if len(reply) >= 4 and reply[3] == SETTINGS_FRAME else NOT_GRPC)
                    return
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=attempt, name="vidstyle-ray-probe", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)  # the name lookup has no timeout of its own: then the thread is left behind
    error = outcome[0] if outcome else TimeoutError()
    if error is None:
        return
    if error is NOT_GRPC:
        raise VidstyleError(f"{address.where} is not a Ray cluster: what listens there does not answer as Ray's "
                            "gRPC servers do (the dashboard's port, 8265, is not the cluster's address: its GCS "
                            "port is, 6379 by default)")
    raise VidstyleError(f"cannot reach the Ray cluster at {address.where}: {_what_failed(error, timeout)}; check "
                        "the address, start the cluster (`ray start --head`), or use --ray alone for a local Ray")


def _what_failed(error: object, timeout: float) -> str:
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror or error})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (nothing listens on that port)"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    return str(error) or type(error).__name__


def _found(address: RayAddress, found_in: str) -> RayAddress:
    """``auto`` resolved to ``address``: ray.init still gets "auto" (Ray finds the same cluster, and enables
    token authentication only for an address it found itself)."""
    return RayAddress("auto", "auto", address.host, address.port, address.client, found_in)
