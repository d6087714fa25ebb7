"""`dockdrift capture`: the real docker CLI through it (unix and TCP on both sides), the
exchanges it commits on SIGINT/SIGTERM, its refusals, and the unix<->tcp bridge itself."""

from __future__ import annotations

import asyncio
import errno
import os
import select
import signal
import socket
import sqlite3
import stat
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockdrift.bridge import Bridge, bind_unix, peer_uid, same_user
from dockdrift.cli import main
from conftest import IMAGE, VENV_BIN, docker_cli, free_port

DOCKDRIFT = str(VENV_BIN / "dockdrift")
NAME = "dockdrift-capture-test"


@dataclass
class Capture:
    proc: subprocess.Popen
    host: str  # what the printed export line says
    err: Path

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, self.err.read_text(errors="replace")


def start_capture(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Capture:
    err = tmp_path / "capture.err"
    with open(err, "wb") as err_file:
        proc = subprocess.Popen([DOCKDRIFT, "capture", *args], stdout=subprocess.PIPE,
                                stderr=err_file, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("export DOCKER_HOST="):
        proc.kill()
        proc.wait()
        pytest.fail(f"no export line ({line!r}): {err.read_text(errors='replace')[-2000:]}")
    return Capture(proc, line.strip().split("=", 1)[1], err)


def capture_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKDRIFT, "capture", *args], capture_output=True, text=True,
                          timeout=120)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `dockdrift capture ARGS` in-process (these fail before any proxy starts)."""
    code = main(["capture", *args])
    err = capsys.readouterr().err
    return one_line_error(subprocess.CompletedProcess(args, code, "", err))


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT method, route, handler, status_code, hijacked, target "
                            "FROM exchanges").fetchall()


WORKLOAD: list[tuple[tuple[str, ...], bytes | None]] = [
    (("run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"), None),
    (("run", "-i", "--rm", IMAGE, "cat"), b"hi\nthere\n"),
    (("exec", NAME, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 4"), None),
    (("exec", "-i", NAME, "cat"), b"stdin through exec\n"),
]


def run_workload(host: str) -> list[tuple[int, bytes, bytes]]:
    results = []
    for args, stdin in WORKLOAD:
        r = docker_cli(host, *args, input=stdin)
        results.append((r.returncode, r.stdout, r.stderr))
    return results


@pytest.fixture(scope="module")
def helper_container(docker_host: str):
    docker_cli(docker_host, "rm", "-f", NAME)
    r = docker_cli(docker_host, "run", "-d", "--name", NAME, IMAGE, "sleep", "300")
    assert r.returncode == 0, r.stderr
    yield NAME
    docker_cli(docker_host, "rm", "-f", NAME)


@pytest.fixture(scope="module")
def direct_results(docker_host: str, helper_container: str) -> list[tuple[int, bytes, bytes]]:
    """The workload straight to dockerd: what every capture must reproduce."""
    results = run_workload(docker_host)
    assert [r[0] for r in results] == [3, 0, 4, 0], results
    return results


@pytest.mark.docker
@pytest.mark.parametrize(("upstream_kind", "listen_kind", "sig"), [
    ("unix", "tcp", signal.SIGINT),
    ("tcp", "unix", signal.SIGTERM),
])
def test_docker_cli_through_capture_is_transparent_and_recorded(
        docker_host, docker_unix, direct_results, tmp_path, upstream_kind, listen_kind, sig):
    upstream = docker_unix if upstream_kind == "unix" else docker_host
    sock = tmp_path / "front.sock"
    listen = f"unix://{sock}" if listen_kind == "unix" else "127.0.0.1:0"
    db = tmp_path / "capture.sqlite"
    cap = start_capture(tmp_path, "--upstream", upstream, "--listen", listen, "--db", str(db))
    try:
        if listen_kind == "unix":
            assert cap.host == f"unix://{sock}"
            assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        else:
            assert cap.host.startswith("tcp://127.0.0.1:")
        through = run_workload(cap.host)
    finally:
        code, err = cap.stop(sig)
    assert through == direct_results
    assert code == 0, err
    assert "exchanges recorded" in err and "Traceback" not in err
    if listen_kind == "unix":
        assert not sock.exists()  # removed on exit
    got = rows(db)
    for route, handler, status, hijacked in [
        ("/containers/create", "postContainersCreate", 201, 0),
        ("/containers/{name:.*}/attach", "proxyHijack", 101, 1),
        ("/containers/{name:.*}/wait", "proxyContainerAndForceRefresh", 200, 0),
        ("/exec/{execid:.*}/start", "postExecStart", 101, 1),
    ]:
        assert sum(1 for r in got if r[1:5] == (route, handler, status, hijacked)) == 2, got
    assert {r[5] for r in got} == {"engine"}


@pytest.mark.docker
def test_unreachable_upstream_is_survived_and_recorded(docker_host, tmp_path):
    db, missing = tmp_path / "c.sqlite", tmp_path / "no-docker.sock"
    cap = start_capture(tmp_path, "--upstream", f"unix://{missing}", "--listen", "127.0.0.1:0",
                        "--db", str(db))
    try:
        url = cap.host.replace("tcp://", "http://") + "/v1.41/containers/json"
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(url, timeout=30)
        assert answer.value.code == 502  # mitmproxy's, not Docker's: stored without status
    finally:
        code, err = cap.stop()
    assert code == 0, err
    assert f"upstream unix://{missing} is not reachable now" in err
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT route, status_code, error FROM exchanges").fetchall()
    assert len(stored) == 1
    route, status, error = stored[0]
    assert (route, status) == ("/containers/json", None)
    assert str(missing) in error and "No such file" in error


@pytest.mark.docker
def test_allow_remote_warns_and_serves_on_loopback(docker_host, tmp_path):
    cap = start_capture(tmp_path, "--upstream", docker_host, "--listen", "0.0.0.0:0",
                        "--allow-remote", "--db", str(tmp_path / "c.sqlite"))
    try:
        assert cap.host.startswith("tcp://127.0.0.1:")  # a client on this host uses loopback
        with urllib.request.urlopen(cap.host.replace("tcp://", "http://") + "/_ping",
                                    timeout=30) as resp:
            assert resp.status == 200 and resp.read() == b"OK"
    finally:
        code, err = cap.stop(signal.SIGINT)
    assert code == 0, err
    assert "WARNING: listening on tcp://0.0.0.0:0 exposes the Docker API" in err
    assert "root on this host" in err


def test_non_loopback_listen_is_refused(capsys):
    line = refused(capsys, "--listen", "0.0.0.0:2376", "--upstream", "tcp://127.0.0.1:2375")
    assert "refusing to listen on tcp://0.0.0.0:2376" in line and "--allow-remote" in line


def test_port_in_use_is_one_clear_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused(capsys, "--listen", f"127.0.0.1:{port}", "--upstream",
                       "tcp://127.0.0.1:2375")
    assert line == (f"dockdrift capture: 127.0.0.1:{port} is in use: choose another --listen "
                    "port or stop the other process")


@pytest.mark.parametrize(("args", "expected"), [
    (["--upstream", "ftp://me@host"], "ftp:// is not supported"),
    (["--upstream", "unix://relative.sock"], "must be absolute"),
    (["--upstream", "tcp://127.0.0.1:99999"], "port must be 0-65535"),
    (["--listen", "127.0.0.1:abc"], "bad --listen '127.0.0.1:abc'"),
    (["--listen", "127.0.0.1"], "the port is missing"),
])
def test_bad_endpoint_syntax(capsys, args, expected):
    assert expected in refused(capsys, *args)


def test_docker_host_pointing_at_the_capture_is_a_loop(capsys, monkeypatch):
    port = free_port()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://localhost:{port}")
    line = refused(capsys, "--listen", f"127.0.0.1:{port}")
    assert f"DOCKER_HOST tcp://localhost:{port} points at this capture's own listen" in line


def test_bad_db_is_one_line(tmp_path):
    r = capture_cli("--upstream", "tcp://127.0.0.1:2375", "--listen", "127.0.0.1:0",
                    "--db", str(tmp_path / "missing-dir" / "c.sqlite"))
    assert "does not exist" in one_line_error(r)


# -- the bridge itself (in-process, no Docker) ---------------------------------------------

async def _eof_then_reply_server(path: str) -> asyncio.base_events.Server:
    """A unix server that answers only after the client half-closed: like a hijacked exec."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until EOF
        writer.write(b"got " + data)
        await writer.drain()
        writer.close()
    return await asyncio.start_unix_server(handle, path)


def _client_half_closes(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_bridge_passes_half_close_and_survives_missing_upstream(tmp_path):
    path = str(tmp_path / "up.sock")

    async def main() -> tuple[bytes, bytes, bytes, int]:
        server = await _eof_then_reply_server(path)
        bridge = Bridge(("unix", path))
        _, port = await bridge.listen_tcp("127.0.0.1", 0)
        payload = b"x" * 3_000_000  # more than the socket buffers hold
        reply = await asyncio.to_thread(_client_half_closes, port, payload)
        small = await asyncio.to_thread(_client_half_closes, port, b"ping")
        server.close()
        await server.wait_closed()
        os.unlink(path)
        try:
            gone = await asyncio.to_thread(_client_half_closes, port, b"nobody home")
        except (ConnectionResetError, OSError) as exc:
            # closed with our bytes unread: the kernel says RST, at recv() or already at
            # shutdown() (ENOTCONN) when the bridge was quicker than this thread
            assert isinstance(exc, ConnectionResetError) or exc.errno == errno.ENOTCONN
            gone = b""
        await bridge.close()
        return reply, small, gone, bridge.failures

    reply, small, gone, failures = asyncio.run(main())
    assert reply == b"got " + b"x" * 3_000_000
    assert small == b"got ping"
    assert gone == b"" and failures == 1  # closed, not hung


def test_unix_listen_socket_is_0600_and_refuses_a_live_one(tmp_path):
    path = str(tmp_path / "front.sock")
    sock = bind_unix(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with pytest.raises(OSError, match="in use"):
            bind_unix(path)
    finally:
        sock.close()
    bind_unix(path).close()  # a stale socket file (no listener) is replaced


_AS_NOBODY = ("import socket,sys;s=socket.create_connection(('127.0.0.1',int(sys.argv[1])));"
              "s.sendall(b'hello');s.shutdown(socket.SHUT_WR);sys.stdout.buffer.write(s.recv(99))")


SYSTEM_PYTHON = "/usr/bin/python3"  # the venv's may not be readable by `nobody`


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON),
                    reason="needs root (and a system python) to connect as another user")
def test_private_bridge_admits_only_our_own_user(tmp_path):
    """Behind a 0600 unix --listen, the loopback hops must not serve other local users."""
    path = str(tmp_path / "up.sock")

    async def main() -> tuple[bytes, bytes, int]:
        server = await _eof_then_reply_server(path)
        bridge = Bridge(("unix", path), same_user_only=True)
        _, port = await bridge.listen_tcp("127.0.0.1", 0)
        ours = await asyncio.to_thread(_client_half_closes, port, b"hello")
        other = await asyncio.to_thread(
            subprocess.run, [SYSTEM_PYTHON, "-c", _AS_NOBODY, str(port)], capture_output=True,
            timeout=60, user=65534, group=65534, extra_groups=[], cwd="/")
        await bridge.close()
        server.close()
        return ours, other.stdout, bridge.refused

    ours, theirs, refused = asyncio.run(main())
    assert ours == b"got hello"
    assert theirs == b"" and refused == 1


def test_peer_uid_of_a_loopback_connection():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()):
            conn, peer = server.accept()
            with conn:
                assert peer_uid(peer, conn.getsockname()) == os.getuid()
                assert same_user(peer, conn.getsockname())


def test_sigterm_with_kept_alive_clients_prints_no_traceback(docker_host, tmp_path):
    """mitmproxy 11 logs each cancelled client task with a traceback at shutdown; a clean
    stop of the capture prints none (and still commits what was recorded)."""
    db = tmp_path / "quiet.sqlite"
    cap = start_capture(tmp_path, "--upstream", docker_host, "--listen", "127.0.0.1:0",
                        "--db", str(db))
    port = int(cap.host.rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(4)]
    try:
        for c in clients:
            c.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert all(c.recv(100).startswith(b"HTTP/1.1 200") for c in clients)
        code, err = cap.stop()
    finally:
        for c in clients:
            c.close()
    assert code == 0 and "Traceback" not in err, err
    assert "4 exchanges recorded" in err
