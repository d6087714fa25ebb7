"""`dockdrift capture` in front of remote daemons, each real: a dockerd that speaks only TLS
with client certificates, the shared dockerd behind a real sshd (`docker system dial-stdio`),
and a context made with `docker context create`. Through each, the docker CLI must see exactly
what it sees talking to that endpoint itself, and every exchange must be recorded and tagged.
Then the bad inputs, each one line and exit 2, and mitmdump with mitmproxy's own TLS options.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DOCKER, IMAGE, MITMDUMP, ROOT, free_port, need, wait_port
from remote_helpers import (SSHD, Sshd, docker, make_certs, start_sshd, start_tls_dockerd,
                            tls_env, wait_until)
from dockdrift.cli import main
from test_buildkit_session import SETTINGS_ACK, session
from test_capture import Capture, one_line_error, start_capture
from transparency_helpers import normalise_ids

PID = os.getpid()
_SEQ = itertools.count()
BUILD_TAG = f"dd-remote-build-{PID}"
DOCKERFILE = f"FROM {IMAGE}\nLABEL dd-remote={PID}\n".encode()

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def certs() -> Path:
    return make_certs()


@pytest.fixture(scope="session")
def tls_daemon(certs: Path) -> str:
    need(shutil.which("dockerd") is not None and os.path.exists(DOCKER),
         "dockerd and the docker CLI are needed for the TLS daemon")
    try:
        url, _ = start_tls_dockerd()
    except RuntimeError as exc:
        need(False, f"no TLS dockerd: {exc}")
    return url


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory, docker_unix: str) -> Iterator[Sshd]:
    need(os.path.exists(SSHD) and shutil.which("ssh-keygen") is not None,
         "sshd is needed (apt-get install openssh-server)")
    server = start_sshd(tmp_path_factory.mktemp("sshd"), docker_unix)
    yield server
    server.stop()


def remote_workload(host: str | None, env: dict[str, str], tag: str, quick: bool = False,
                    bodies: bool = True, control: tuple[str | None, dict[str, str]] | None = None,
                    ) -> list[tuple[int, bytes, bytes]]:
    """What a client sees (exit code, stdout, stderr) for each call; names carry `tag`.

    quick: run and exec -i only. bodies=False leaves out exec, cp and build (plain request
    and response bodies, byte for byte the same path as the streams through a bridge)."""
    helper, logs = f"dd-remote-{tag}-{PID}", f"dd-remote-{tag}-logs-{PID}"
    calls: list[tuple[tuple[str, ...], bytes | None]] = [
        (("run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"), None),
        (("exec", "-i", helper, "sh", "-c", "cat; echo exec-err >&2; exit 4"), b"via exec\n"),
    ]
    if not quick and bodies:
        calls += [(("exec", helper, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 6"),
                   None)]
    if not quick:
        calls += [(("run", "-i", "--rm", IMAGE, "cat"), b"hi\nthere\n"),
                  (("logs", "-f", logs), None)]
    if not quick and bodies:
        calls += [(("cp", f"{helper}:/etc/passwd", "-"), None),
                  (("build", "-q", "-t", BUILD_TAG, "-"), DOCKERFILE)]
    out = []
    for args, stdin in calls:
        r = docker(host, *args, input=stdin, env=env)
        out.append((r.returncode, normalise_ids(r.stdout), r.stderr))
    if not quick:
        out.append(attach(host, env, tag, *(control or (host, env))))
    return out


def attach(host: str | None, env: dict[str, str], tag: str, ctl: str | None,
           ctl_env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """`docker attach` (through `host`) to a container that prints only once a client is
    attached; made, watched and removed through `ctl` (the same daemon)."""
    name = f"dd-remote-{tag}-attach-{PID}-{next(_SEQ)}"
    script = ("while [ ! -e /tmp/go ]; do sleep 0.05; done; "
              "echo attached-out; echo attached-err >&2; exit 5")
    assert docker(ctl, "run", "-d", "--name", name, IMAGE, "sh", "-c", script,
                  env=ctl_env).returncode == 0
    full = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    full.update({**({"DOCKER_HOST": host} if host else {}), **env})
    proc = subprocess.Popen([DOCKER, "attach", name], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full)
    try:
        wait_until(lambda: docker(ctl, "events", "--since", "0", "--until", "0s",
                                  "--filter", f"container={name}", "--filter", "event=attach",
                                  "--format", "x", env=ctl_env).stdout.strip() != b"",
                   what=f"attach event of {name}")
        docker(ctl, "exec", name, "touch", "/tmp/go", env=ctl_env)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        docker(ctl, "rm", "-f", name, env=ctl_env)
    return proc.returncode, stdout, stderr


def setup_objects(host: str | None, env: dict[str, str], tag: str) -> None:
    helper, logs = f"dd-remote-{tag}-{PID}", f"dd-remote-{tag}-logs-{PID}"
    docker(host, "rm", "-f", helper, logs, env=env)
    assert docker(host, "run", "-d", "--name", helper, IMAGE, "sleep", "300",
                  env=env).returncode == 0
    assert docker(host, "run", "--name", logs, IMAGE, "sh", "-c",
                  "echo log-out; echo log-err >&2", env=env).returncode == 0


def cleanup_objects(host: str | None, env: dict[str, str], tag: str) -> None:
    docker(host, "rm", "-f", f"dd-remote-{tag}-{PID}", f"dd-remote-{tag}-logs-{PID}", env=env)
    docker(host, "image", "rm", "-f", BUILD_TAG, env=env)


def recorded(db: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("select * from exchanges order by id").fetchall()
    finally:
        con.close()


def assert_tagged(db: Path, full: bool = True) -> None:
    rows = recorded(db)
    seen = {(r["method"], r["route"], r["status_code"], bool(r["hijacked"])) for r in rows}
    want = {("POST", "/containers/create", 201, False),
            ("POST", "/containers/{name:.*}/attach", 101, True),
            ("POST", "/exec/{execid:.*}/start", 101, True)}
    if full:
        want |= {("GET", "/containers/{name:.*}/logs", 200, False),
                 ("GET", "/containers/{name:.*}/archive", 200, False),
                 ("POST", "/build", 200, False)}
    assert want <= seen, sorted(want - seen)
    assert all(r["route"] and r["handler"] for r in rows), [r["path"] for r in rows]
    assert {r["target"] for r in rows} == {"engine"}
    assert all((r["server"] or "").startswith("Docker/20.10") for r in rows)
    # no proxy-side failure; the docker CLI gives up on its first HEAD /_ping after a few
    # seconds (it then goes on without it, directly too), so a client hang-up is allowed
    failed = [(r["path"], r["error"]) for r in rows
              if r["error"] and r["error"] != "Client disconnected."]
    assert failed == []


def stop_ok(cap: Capture) -> str:
    code, err = cap.stop()
    assert code == 0, err
    # mitmproxy 11.0 logs a CancelledError traceback for a connection still open when its
    # loop ends (see test_shutdown): here the h2c session, which dockerd keeps half-open.
    # Any other traceback is a bug.
    blocks = err.split("Traceback (most recent call last):")[1:]
    assert all(b.rstrip().endswith("asyncio.exceptions.CancelledError") for b in blocks), err
    return err


def test_tls_daemon_through_capture(tls_daemon: str, certs: Path, tmp_path: Path) -> None:
    """Upstream TLS with verification and a client certificate; clients talk plain HTTP."""
    direct_env = tls_env(certs)
    setup_objects(tls_daemon, direct_env, "tls")
    db = tmp_path / "tls.sqlite"
    cap = start_capture(tmp_path, "--upstream", tls_daemon, "--tls-verify", "--cert-path",
                        str(certs / "good"), "--listen", "127.0.0.1:0", "--db", str(db),
                        env={"DOCKER_TLS_VERIFY": "", "DOCKER_HOST": ""})
    try:
        direct = remote_workload(tls_daemon, direct_env, "tls")
        through = remote_workload(cap.host, {}, "tls", control=(tls_daemon, direct_env))
        h2c_status, h2c_bytes = session(int(cap.host.rsplit(":", 1)[1]))  # BuildKit's upgrade
    finally:
        cleanup_objects(tls_daemon, direct_env, "tls")
        err = stop_ok(cap)
    assert [r[0] for r in direct] == [3, 4, 6, 0, 0, 0, 0, 5], direct
    assert through == direct
    assert "over TLS, verified" in err
    assert h2c_status == b"HTTP/1.1 101 Switching Protocols"
    assert h2c_bytes.startswith(b"PRI * HTTP/2.0") and SETTINGS_ACK in h2c_bytes
    assert_tagged(db)


def test_ssh_remote_through_capture(sshd: Sshd, docker_host: str, tmp_path: Path) -> None:
    """ssh://root@127.0.0.1:PORT: one `ssh … docker system dial-stdio` per connection.
    Half-closes and streams through the ssh bridge: run, exec -i, run -i, logs -f, attach.
    Left out, for time (each ssh handshake costs seconds on a loaded machine): exec, cp and
    build, whose bodies are bytes like any others to the bridge (checked over TLS above)."""
    env = sshd.env()
    setup_objects(docker_host, {}, "ssh")  # the same daemon, reached without ssh: faster
    db = tmp_path / "ssh.sqlite"
    cap = start_capture(tmp_path, "--upstream", sshd.url, "--listen", "127.0.0.1:0",
                        "--db", str(db), env=env)
    try:
        ctl = (docker_host, {})
        direct = remote_workload(sshd.url, env, "ssh", bodies=False, control=ctl)
        through = remote_workload(cap.host, {}, "ssh", bodies=False, control=ctl)
    finally:
        cleanup_objects(docker_host, {}, "ssh")
        err = stop_ok(cap)
    assert [r[0] for r in direct] == [3, 4, 0, 0, 5], direct
    assert through == direct
    assert f"upstream {sshd.url} is engine" in err
    assert "Unknown child process" not in err  # every ssh reaped by asyncio, none by us
    assert_tagged(db, full=False)
    assert any(r["route"] == "/containers/{name:.*}/logs" and r["status_code"] == 200
               for r in recorded(db))
    # every ssh process was reaped: none of ours is left behind
    left = subprocess.run(["pgrep", "-f", "--", f"-p {sshd.port} -- 127.0.0.1 docker"],
                          capture_output=True, text=True).stdout.split()
    assert left == []


@pytest.fixture
def context_config(tls_daemon: str, certs: Path, tmp_path: Path) -> dict[str, str]:
    """A DOCKER_CONFIG with a context `dd-remote-prod` made by `docker context create`."""
    cfg = tmp_path / "docker-config"
    env = {"DOCKER_CONFIG": str(cfg)}
    good = certs / "good"
    r = docker(None, "context", "create", "dd-remote-prod", "--docker",
               f"host={tls_daemon},ca={good}/ca.pem,cert={good}/cert.pem,key={good}/key.pem",
               env=env)
    assert r.returncode == 0, r.stderr
    return env


def test_context_through_capture_with_client_tls(
        context_config: dict[str, str], certs: Path, tls_daemon: str,
        tmp_path: Path) -> None:
    """`--context prod` records what `docker --context prod` talks to; with --listen-tls a
    client set up for a TLS daemon (DOCKER_TLS_VERIFY=1) only changes DOCKER_HOST."""
    direct_env = {**context_config, "DOCKER_CONTEXT": "dd-remote-prod"}
    setup_objects(None, direct_env, "ctx")
    server = certs / "server"
    db = tmp_path / "ctx.sqlite"
    cap_env = {**context_config, "DOCKER_HOST": "", "DOCKER_CONTEXT": "dd-remote-prod"}
    cap = start_capture(tmp_path, "--listen", "127.0.0.1:0", "--db", str(db),
                        "--listen-tls", "--listen-cert", str(server / "cert.pem"),
                        "--listen-key", str(server / "key.pem"),
                        "--listen-ca", str(server / "ca.pem"), env=cap_env)
    try:
        direct = remote_workload(None, direct_env, "ctx", quick=True)
        through = remote_workload(cap.host, tls_env(certs), "ctx", quick=True)
        plain = docker(cap.host, "version", env={})  # a plain client is turned away
    finally:
        cleanup_objects(None, direct_env, "ctx")
        err = stop_ok(cap)
    assert [r[0] for r in direct] == [3, 4]
    assert through == direct
    assert plain.returncode != 0
    assert "context 'dd-remote-prod' (DOCKER_CONTEXT)" in err
    assert "refused a plain-text client" in err
    assert_tagged(db, full=False)


def test_listen_tls_requires_a_client_certificate(tls_daemon: str, certs: Path,
                                                  tmp_path: Path) -> None:
    server = certs / "server"
    cap = start_capture(tmp_path, "--upstream", tls_daemon, "--tls-verify", "--cert-path",
                        str(certs / "good"), "--listen", "127.0.0.1:0",
                        "--db", str(tmp_path / "l.sqlite"), "--listen-tls",
                        "--listen-cert", str(server / "cert.pem"), "--listen-key",
                        str(server / "key.pem"), "--listen-ca", str(server / "ca.pem"),
                        env={"HOME": str(tmp_path / "home")})
    port = int(cap.host.rsplit(":", 1)[1])
    try:
        for cert in (None, certs / "expired"):
            ctx = ssl.create_default_context(cafile=str(server / "ca.pem"))
            if cert is not None:
                ctx.load_cert_chain(cert / "cert.pem", cert / "key.pem")
            with pytest.raises((ssl.SSLError, ConnectionError)):
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
                        if not s.recv(100):
                            raise ConnectionError("closed")
        ok = docker(cap.host, "version", "--format", "{{.Server.Version}}",
                    env=tls_env(certs))
        assert ok.returncode == 0 and ok.stdout.startswith(b"20.10"), ok.stderr
    finally:
        stop_ok(cap)
    # mitmproxy's tlsconfig got a private confdir: nothing written to ~/.mitmproxy
    assert not (tmp_path / "home" / ".mitmproxy").exists()
    assert recorded(tmp_path / "l.sqlite")  # the good client's exchanges, nothing else
    assert all(r["status_code"] == 200 for r in recorded(tmp_path / "l.sqlite"))


def test_mitmdump_with_mitmproxys_own_tls_options(tls_daemon: str, certs: Path,
                                                  tmp_path: Path) -> None:
    """The README's mitmdump line: reverse:https://, client_certs (certificate and key in one
    file), ssl_verify_upstream_trusted_ca. The target probe asks /version over TLS too."""
    good = certs / "good"
    client_pem = tmp_path / "client.pem"
    client_pem.write_bytes((good / "cert.pem").read_bytes() + (good / "key.pem").read_bytes())
    client_pem.chmod(0o600)
    port, db = free_port(), tmp_path / "mitm.sqlite"
    log = tmp_path / "mitmdump.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [MITMDUMP, "-q", "-s", str(ROOT / "addons" / "docker_recorder.py"),
             "--mode", f"reverse:{tls_daemon.replace('tcp://', 'https://')}",
             "--listen-host", "127.0.0.1", "-p", str(port),
             "--set", f"client_certs={client_pem}",
             "--set", f"ssl_verify_upstream_trusted_ca={good / 'ca.pem'}",
             "--set", "http2=false", "--set", f"dockdrift_db={db}"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_port(port, proc=proc)
        host = f"tcp://127.0.0.1:{port}"
        r = docker(host, "run", "--rm", IMAGE, "sh", "-c", "echo out; exit 3")
        i = docker(host, "run", "-i", "--rm", IMAGE, "cat", input=b"stdin\n")
    finally:
        proc.terminate()
        assert proc.wait(60) == 0, log.read_text(errors="replace")[-2000:]
    assert (r.returncode, r.stdout, i.returncode, i.stdout) == (3, b"out\n", 0, b"stdin\n")
    rows = recorded(db)
    assert any(r["route"] == "/containers/{name:.*}/attach" and r["status_code"] == 101
               for r in rows)
    # identity from the TLS probe of /version (the attach 101 carries no Server header)
    assert {r["target"] for r in rows} == {"engine"}
    assert all((r["server"] or "").startswith("Docker/20.10") for r in rows)


class _FakeTlsDaemon:
    """A TLS server presenting a chosen certificate (one edge case: a bad daemon certificate
    that the real TLS daemon of these tests does not have)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as s:
                    self.received += s.recv(100)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(("case", "expected"), [
    ("wrong-ca", "is not trusted: unable to get local issuer certificate"),
    ("expired-client", "refused our client certificate"),
    ("expired-server", "is not trusted: certificate has expired"),
    ("wrong-host", "is not trusted: IP address mismatch"),
    ("plain-daemon", "does not speak TLS"),
    ("unknown-context", "context 'dd-remote-nope' (--context) does not exist"),
    ("ssh-unreachable", "cannot reach ssh://root@127.0.0.1:{closed} over ssh: ssh: connect to "
                        "host 127.0.0.1 port {closed}: Connection refused"),
    ("ssh-key-refused", "Permission denied (publickey)"),
])
def test_bad_remote_inputs_are_one_line(case: str, expected: str, request: pytest.FixtureRequest,
                                        certs: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """In-process (`main`): each fails before a proxy starts, with one line and exit 2."""
    env: dict[str, str] = {"DOCKER_HOST": "", "DOCKER_TLS_VERIFY": "", "DOCKER_CONTEXT": ""}
    fake = None
    closed = free_port()
    if case in ("wrong-ca", "expired-client"):
        daemon = request.getfixturevalue("tls_daemon")
        which = "wrong-ca" if case == "wrong-ca" else "expired"
        args = ["--upstream", daemon, "--tls-verify", "--cert-path", str(certs / which)]
    elif case in ("expired-server", "wrong-host"):
        prefix = "expired-" if case == "expired-server" else "wronghost-"
        fake = _FakeTlsDaemon(certs / "bad-server" / f"{prefix}cert.pem",
                              certs / "bad-server" / f"{prefix}key.pem")
        args = ["--upstream", f"tcp://127.0.0.1:{fake.port}", "--tls-verify", "--cert-path",
                str(certs / "good")]
    elif case == "plain-daemon":
        plain = request.getfixturevalue("docker_host")  # the shared plain-HTTP dockerd
        args = ["--upstream", plain, "--tls-verify", "--cert-path", str(certs / "good")]
    elif case == "unknown-context":
        env["DOCKER_CONFIG"] = str(tmp_path)
        args = ["--context", "dd-remote-nope"]
    else:
        server: Sshd = request.getfixturevalue("sshd")
        env.update(server.env())
        port = closed if case == "ssh-unreachable" else server.port
        if case == "ssh-key-refused":
            cfg = tmp_path / "stranger_config"
            cfg.write_text((server.key.parent / "ssh_config").read_text().replace(
                str(server.key), str(server.key.parent / "stranger_key")))
            wrapper = tmp_path / "bin" / "ssh"
            wrapper.parent.mkdir()
            wrapper.write_text(f"#!/bin/sh\nexec {shutil.which('ssh')} -F {cfg} \"$@\"\n")
            wrapper.chmod(0o755)
            env["PATH"] = f"{wrapper.parent}:{os.environ['PATH']}"
        args = ["--upstream", f"ssh://root@127.0.0.1:{port}"]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    try:
        code = main(["capture", *args, "--listen", "127.0.0.1:0",
                     "--db", str(tmp_path / "bad.sqlite")])
    finally:
        if fake is not None:
            fake.close()
    line = one_line_error(subprocess.CompletedProcess(args, code, "", capsys.readouterr().err))
    assert expected.format(closed=closed) in line
    assert not (tmp_path / "bad.sqlite").exists() or not recorded(tmp_path / "bad.sqlite")
    if fake is not None:
        assert fake.received == b""  # not one byte of HTTP to an untrusted daemon
