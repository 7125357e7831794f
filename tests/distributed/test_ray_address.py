"""--ray addresses: the forms Ray accepts, a cluster that is not there (one line, exit 2, within a bounded time),
ray.init's own errors as one line, and the private temporary folder of a local Ray. No cluster is started and
no traffic leaves the loopback interface: the unreachable addresses are loopback ports."""
from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from tests.helpers import smooth_image

from vidstyle.cli.main import main
from vidstyle.errors import VidstyleError
from vidstyle.io.images import write_image

ray = pytest.importorskip("ray", reason="Ray is the optional extra vidstyle[ray]")
from vidstyle.distributed import RayOptions, address  # noqa: E402
from vidstyle.distributed.address import check_address, parse_address  # noqa: E402
from vidstyle.distributed.local_ray import private_temp_dir, ray_session  # noqa: E402


@pytest.fixture()
def short_tmp() -> Iterator[Path]:
    """An empty folder with a short path (under /tmp) for $RAY_TMPDIR: a private Ray folder fits below it."""
    folder = Path(tempfile.mkdtemp(prefix="vs", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(reply: bytes | None) -> Iterator[int]:
    """A loopback TCP server that accepts every connection and sends ``reply`` (None: nothing, ever)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                held.append(conn)
                if reply is not None:
                    conn.recv(64)
                    conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full: a connection attempt gets no answer at all, as from a host
    that drops packets (Linux drops the SYN; the attempt runs into its timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    first = socket.create_connection(("127.0.0.1", port), timeout=1)  # fills the queue (nobody accepts)
    try:
        yield port
    finally:
        first.close()
        listener.close()


def test_the_address_forms_ray_accepts() -> None:
    assert parse_address(None).local and parse_address("local").local and parse_address("").local
    assert parse_address("auto").init == "auto"
    a = parse_address("10.0.0.5:6379")
    assert (a.init, a.host, a.port, a.local) == ("10.0.0.5:6379", "10.0.0.5", 6379, False)
    assert (parse_address("[::1]:6379").host, parse_address("[::1]:6379").port) == ("::1", 6379)
    client = parse_address("ray://head")
    assert (client.init, client.port, client.where) == ("ray://head:10001", 10001, "ray://head:10001")
    for bad in ("not_an_address", "head", "head:0", "head:65536", "head:1:2", "::1:6379", "http://head:8265",
                "ray://", "head:port"):
        with pytest.raises(VidstyleError, match="is not a Ray address: use auto, HOST:PORT"):
            parse_address(bad)
    with pytest.raises(VidstyleError, match="not_an_address"):
        RayOptions(address="not_an_address").validate()  # before any work


def test_a_closed_port_is_refused_at_once() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(VidstyleError, match=rf"cannot reach the Ray cluster at 127\.0\.0\.1:{port}: connection "
                                            "refused.*--ray alone"):
        check_address(f"127.0.0.1:{port}", timeout=5)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", ["no answer to the connection", "accepts, never answers"])
def test_an_address_that_does_not_answer_fails_within_the_timeout(kind: str) -> None:
    with (full_backlog() if kind.startswith("no") else server(None)) as port:
        started = time.monotonic()
        with pytest.raises(VidstyleError, match=rf"127\.0\.0\.1:{port}: no answer within 0\.3 s"):
            check_address(f"127.0.0.1:{port}", timeout=0.3)
        assert time.monotonic() - started < 1.5


def test_a_server_that_is_not_ray_is_named() -> None:
    with server(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
        with pytest.raises(VidstyleError, match=rf"127\.0\.0\.1:{port} is not a Ray cluster.*8265"):
            check_address(f"127.0.0.1:{port}", timeout=2)
    settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # what a gRPC server (Ray's GCS) answers first
    with server(settings) as port:
        assert check_address(f"127.0.0.1:{port}", timeout=2).port == port
        assert check_address(f"ray://127.0.0.1:{port}", timeout=2).client


def test_auto_finds_the_cluster_as_ray_does(tmp_path: Path) -> None:
    none: Any = lambda: ()  # noqa: E731 - no Ray processes on this machine
    env = {"RAY_TMPDIR": str(tmp_path)}
    with pytest.raises(VidstyleError, match=rf"--ray=auto found no running Ray cluster.*{tmp_path}/ray/"
                                            "ray_current_cluster.*ray start --head.*--ray alone"):
        check_address("auto", environ=env, discover=none)
    with server(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00") as port:
        found = check_address("auto", timeout=2, environ={**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}, discover=none)
        assert (found.init, found.port, found.found_in) == ("auto", port, "from $RAY_ADDRESS")
        (tmp_path / "ray").mkdir()
        (tmp_path / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{port}\n")  # as `ray start` leaves it
        assert check_address("auto", timeout=2, environ=env, discover=none).port == port
        # Ray's last resort, a Ray another program started for itself (found among the processes), is not joined
        with pytest.raises(VidstyleError, match=rf"found no running Ray cluster.*the Ray at 127\.0\.0\.1:{port} runs "
                                                "for another program"):
            check_address("auto", timeout=2, environ={"RAY_TMPDIR": str(tmp_path / "x")},
                          discover=lambda: [f"127.0.0.1:{port}"])
    stale = closed_port()  # the cluster `ray start` left behind has stopped
    (tmp_path / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{stale}")
    with pytest.raises(VidstyleError, match=rf"127\.0\.0\.1:{stale} \(from {tmp_path}/ray/ray_current_cluster\): "
                                            "connection refused"):
        check_address("auto", environ=env, discover=none)
    with pytest.raises(VidstyleError, match="RAY_ADDRESS.*'nowhere'"):
        check_address("auto", environ={"RAY_ADDRESS": "nowhere"}, discover=none)


class FakeRay:
    """ray.init and ray.shutdown as the session sees them; ``fail`` is what ray.init raises."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail, self.inits, self.shutdowns = fail, [], 0

    def init(self, **kwargs: Any) -> None:
        self.inits.append(kwargs)
        if "_temp_dir" in kwargs:
            (Path(kwargs["_temp_dir"]) / "session_x" / "logs").mkdir(parents=True)  # what Ray leaves there
        if self.fail is not None:
            raise self.fail

    def shutdown(self, **kwargs: Any) -> None:
        self.shutdowns += 1


@pytest.mark.parametrize("error", [ConnectionError("Failed to connect to Ray cluster at 127.0.0.1:9\nmore"),
                                   ValueError("Invalid address format"), TimeoutError("timed out"),
                                   RuntimeError("Version mismatch: the cluster runs Ray 2.9")])
def test_what_ray_init_raises_is_one_line(error: BaseException, short_tmp: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_TMPDIR", str(short_tmp))
    for where, expected in ((parse_address("127.0.0.1:9"), "cannot join the Ray cluster at 127.0.0.1:9: "),
                            (parse_address(None), "cannot start a local Ray: ")):
        fake = FakeRay(error)
        with pytest.raises(VidstyleError) as caught:
            with ray_session(fake, RayOptions(), where, quiet=True):
                raise AssertionError("not reached")
        message = str(caught.value)
        assert message.startswith(expected + str(error).splitlines()[0]) and "\n" not in message
        assert fake.shutdowns == 1  # whatever ray.init started is stopped
    assert list(short_tmp.iterdir()) == []  # the local Ray's folder is gone with it


def test_a_local_ray_runs_in_its_own_folder_removed_after_it(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_TMPDIR", str(short_tmp))
    for ending in ("success", "error", "interrupt"):
        fake = FakeRay()
        with contextlib.suppress(VidstyleError, KeyboardInterrupt):
            with ray_session(fake, RayOptions(), parse_address(None), quiet=True):
                (folder,) = short_tmp.iterdir()
                assert folder.name.startswith("vidstyle-ray-") and fake.inits[0]["_temp_dir"] == str(folder)
                assert fake.inits[0]["address"] == "local"  # a local start even when $RAY_ADDRESS is set
                if ending == "error":
                    raise VidstyleError("a chunk failed")
                if ending == "interrupt":
                    raise KeyboardInterrupt
        assert fake.shutdowns == 1 and list(short_tmp.iterdir()) == [], ending
    joined = FakeRay()
    keep = short_tmp / "ray" / "session_theirs"
    keep.mkdir(parents=True)
    with ray_session(joined, RayOptions(address="127.0.0.1:9"), parse_address("127.0.0.1:9"), quiet=True):
        pass
    assert "_temp_dir" not in joined.inits[0] and joined.inits[0]["address"] == "127.0.0.1:9"
    assert keep.is_dir() and list(short_tmp.iterdir()) == [short_tmp / "ray"]  # joining removes nothing


def test_the_private_folder_is_short_enough_for_rays_sockets(tmp_path: Path) -> None:
    long = tmp_path / ("x" * 40)
    long.mkdir()
    folder = private_temp_dir({"RAY_TMPDIR": str(long)})  # too long for a socket path below it: /tmp instead
    try:
        assert folder.parent == Path("/tmp") and len(str(folder)) <= 40 and folder.is_dir()
    finally:
        folder.rmdir()


@pytest.fixture()
def tiny_clip(tmp_path: Path) -> Path:
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"f{i}.png", smooth_image(24, 32, seed=i))
    return folder


@pytest.mark.parametrize("given", ["not_an_address", "closed-port", "auto", "silent"])
def test_cli_a_cluster_that_is_not_there_is_one_line_and_exit_2(given: str, tiny_clip: Path, weights_path: Path,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # auto: no $RAY_ADDRESS, no bootstrap file in Ray's (here empty) temporary folder, and no Ray process seen
    # (Ray's own search of the process table, which would find other local test runs' clusters)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "raytmp"))
    nothing: Any = lambda: frozenset()  # noqa: E731
    nothing.cache_clear = lambda: None
    monkeypatch.setattr("ray._private.services.find_gcs_addresses", nothing)
    monkeypatch.setattr(address, "PROBE_SECONDS", 0.5)  # the bound, made short for the test
    out = tmp_path / "o.mp4"
    argv = [str(tiny_clip), str(tiny_clip / "f0.png"), str(out), "--preset", "fast", "--weights", str(weights_path),
            "--device", "cpu", "--quiet", "--size", "32", "--iterations", "1"]
    with contextlib.ExitStack() as stack:
        if given == "closed-port":
            given = f"127.0.0.1:{closed_port()}"
        elif given == "silent":
            given = f"127.0.0.1:{stack.enter_context(full_backlog())}"
        started = time.monotonic()
        assert main(argv + [f"--ray={given}"]) == 2
        elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vidstyle: error: ") and given in err, err
    assert "Traceback" not in err and not out.exists() and not (tmp_path / "o.mp4.work").exists()
    assert elapsed < 30, elapsed  # minutes before (ray.init retried a refused or silent port)
    assert not ray.is_initialized()
