"""Shared fixtures: real servers, the recorder in front of them, a capture recorded from one.

With CI=true a test that needs a server fails (never skips) when it is missing.
`docker_host` is the Engine 20.10 that `scripts/dockerd-up.sh` starts (DOCKDRIFT_DOCKER_TCP
overrides it); IMPLEMENTATIONS lists every server the tests know (`engine26_host`,
`podman_host`, and `daemon` over all of them).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["pg_fixtures"]  # PostgreSQL: the fleet store's tests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MITMDUMP = str(VENV_BIN / "mitmdump")
DOCKER = os.environ.get("DOCKDRIFT_DOCKER_CLI") or (
    "/usr/local/bin/docker" if os.path.exists("/usr/local/bin/docker") else shutil.which("docker") or "docker")
DOCKERD_DIR = os.environ.get("DOCKDRIFT_DOCKERD_DIR", "/tmp/dockdrift-dockerd")
DOCKER_UNIX = os.environ.get("DOCKDRIFT_DOCKER_HOST", f"unix://{DOCKERD_DIR}/docker.sock")
IMAGE = "busybox:local"


@dataclass(frozen=True)
class Implementation:
    """A real server of the Docker API the tests can drive: where it listens, how it starts."""

    name: str
    label: str
    env: str        # overrides the endpoint
    default: str    # the endpoint its up-script serves
    up: str         # the script that starts it
    api: str        # the Docker API version its /version says
    component: str  # the server component /version names first

    @property
    def host(self) -> str:
        return os.environ.get(self.env) or self.default


# Data, not branches: one row per server (ports and scripts as in the README's "Tests").
IMPLEMENTATIONS: dict[str, Implementation] = {i.name: i for i in (
    Implementation("engine20", "Docker Engine 20.10 (API 1.41)", "DOCKDRIFT_DOCKER_TCP",
                   "tcp://127.0.0.1:2375", "scripts/dockerd-up.sh", "1.41", "Engine"),
    Implementation("engine26", "Docker Engine 26.1 (API 1.45)", "DOCKDRIFT_ENGINE26_TCP",
                   "tcp://127.0.0.1:2385", "scripts/dockerd26-up.sh", "1.45", "Engine"),
    Implementation("podman", "Podman 4.3 (Docker API 1.41)", "DOCKDRIFT_PODMAN_TCP",
                   "tcp://127.0.0.1:2395", "scripts/podman-up.sh", "1.41", "Podman Engine"),
    Implementation("engine28", "Docker Engine 28.5 (API 1.51)", "DOCKDRIFT_ENGINE28_TCP",
                   "tcp://127.0.0.1:2405", "scripts/dockerd28-up.sh", "1.51", "Engine"),
    # The same daemon started with DOCKER_MIN_API_VERSION=1.44: Engine 29.0's API floor.
    Implementation("engine28floor", "Docker Engine 28.5 in Engine 29.0's floor mode (API 1.51, "
                   "min 1.44)", "DOCKDRIFT_ENGINE28FLOOR_TCP", "tcp://127.0.0.1:2415",
                   "scripts/dockerd28-up.sh --floor", "1.51", "Engine"),
    Implementation("podman5", "Podman 5.8 (Docker API 1.44)", "DOCKDRIFT_PODMAN5_TCP",
                   "tcp://127.0.0.1:2425", "scripts/podman5-up.sh", "1.44", "Podman Engine"),
)}
DOCKER_TCP = IMPLEMENTATIONS["engine20"].host


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, why: str) -> None:
    """Skip locally, fail in CI: a missing Docker must never turn CI green."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI=true and {why}", pytrace=False)
    pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def docker_cli(host: str, *args: str, input: bytes | None = None, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the real docker CLI against `host`; returns the completed process (bytes)."""
    full_env = {**os.environ, "DOCKER_HOST": host, "DOCKER_CLI_HINTS": "false", **(env or {})}
    full_env.pop("DOCKER_CONTEXT", None)
    return subprocess.run([DOCKER, *args], input=input, capture_output=True, timeout=timeout,
                          env=full_env)


def implementation_host(name: str) -> str:
    """The TCP endpoint of a running implementation with busybox:local (need()s it)."""
    impl = IMPLEMENTATIONS[name]
    need(os.path.exists(DOCKER), f"the docker CLI is not at {DOCKER}")
    r = docker_cli(impl.host, "image", "inspect", "--format", "{{.Id}}", IMAGE, timeout=20)
    need(r.returncode == 0, f"no {impl.label} with {IMAGE} at {impl.host} "
         f"(run {impl.up}): {r.stderr.decode(errors='replace').strip()[:200]}")
    return impl.host


@pytest.fixture(scope="session")
def docker_host() -> str:
    """The real dockerd's (Engine 20.10) TCP endpoint, what the recorder proxies to."""
    return implementation_host("engine20")


@pytest.fixture(scope="session")
def engine26_host() -> str:
    """Docker Engine 26.1's TCP endpoint (scripts/dockerd26-up.sh), with busybox:local."""
    return implementation_host("engine26")


@pytest.fixture(scope="session")
def podman_host() -> str:
    """Podman's Docker-API TCP endpoint (scripts/podman-up.sh), with busybox:local."""
    return implementation_host("podman")


@pytest.fixture(scope="session", params=list(IMPLEMENTATIONS))
def daemon(request: pytest.FixtureRequest) -> Implementation:
    """Each implementation in turn (its `.host` answers, with busybox:local)."""
    implementation_host(request.param)
    return IMPLEMENTATIONS[request.param]


@pytest.fixture(scope="session")
def docker_unix(docker_host: str) -> str:
    return DOCKER_UNIX


@dataclass
class Recorder:
    """A running `mitmdump -s addons/docker_recorder.py` in front of the real dockerd."""

    proc: subprocess.Popen
    port: int
    db: Path
    log: Path

    @property
    def host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120) -> int:
        """Signal and wait; generous timeout: a kill would lose rows and hide the cause."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_recorder(db: Path, upstream: str = DOCKER_TCP, *extra: str,
                   port: int | None = None, store: str | None = None,
                   wait: float = 60.0) -> Recorder:
    """mitmdump with the addon in front of `upstream`, recording into `db` (or into the
    URL `store`, e.g. PostgreSQL; `db` then only names the log file)."""
    port = port or free_port()
    log = db.with_suffix(".mitmdump.log")
    up = upstream.replace("tcp://", "http://")
    cmd = [MITMDUMP, "-q", "-s", str(ROOT / "addons" / "docker_recorder.py"),
           "--mode", f"reverse:{up}", "--listen-host", "127.0.0.1", "-p", str(port),
           "--set", f"dockdrift_db={store or db}", *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_port(port, timeout=wait, proc=proc)
    except (RuntimeError, TimeoutError) as exc:
        proc.kill()
        raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-2000:]}") from None
    return Recorder(proc, port, db, log)


@pytest.fixture
def recorder(docker_host: str, tmp_path: Path) -> Iterator[Recorder]:
    """A fresh recorder and store for one test; stopped with SIGTERM afterwards."""
    rec = start_recorder(tmp_path / "capture.sqlite", docker_host)
    yield rec
    rec.stop()


# A short, fixed workload whose answers the report tests know (see test_report_e2e).
WORKLOAD: list[tuple[str, ...]] = [
    ("version",),
    ("info",),
    ("images",),
    ("ps", "-a"),
    ("run", "--rm", IMAGE, "sh", "-c", "echo hi"),
    ("run", "--rm", IMAGE, "sh", "-c", "exit 3"),
    ("inspect", "dockdrift-missing-container"),
    ("rm", "dockdrift-missing-container"),
    ("image", "inspect", "dockdrift/missing:image"),
    ("create", "--name", "dockdrift-wl", IMAGE, "sleep", "30"),
    ("start", "dockdrift-wl"),
    ("start", "dockdrift-wl"),
    ("exec", "dockdrift-wl", "echo", "ok"),
    ("stop", "-t", "0", "dockdrift-wl"),
    ("stop", "-t", "0", "dockdrift-wl"),
    ("rm", "dockdrift-wl"),
    ("volume", "create", "dockdrift-wl-vol"),
    ("volume", "rm", "dockdrift-wl-vol"),
    ("volume", "inspect", "dockdrift-missing-volume"),
]


@pytest.fixture(scope="session")
def recorded_db(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture recorded from the real dockerd by running WORKLOAD through the recorder."""
    db = tmp_path_factory.mktemp("recorded") / "workload.sqlite"
    docker_cli(docker_host, "rm", "-f", "dockdrift-wl")
    docker_cli(docker_host, "volume", "rm", "-f", "dockdrift-wl-vol")
    rec = start_recorder(db, docker_host)
    try:
        for args in WORKLOAD:
            docker_cli(rec.host, *args)
    finally:
        assert rec.stop() == 0, rec.log.read_text(errors="replace")[-2000:]
    return db
