"""`dockdrift clients` and `dockdrift upgrade` against the real thing.

Real clients (docker CLI, docker-py pinned to 1.35 and on auto, a raw client pinned to /v1.24
like Traefik's old provider, curl, compose) are recorded in front of Engine 28.5; `upgrade`
predicts which of them a floor would refuse; the same clients then run against Engine 28.5 in
floor mode (DOCKER_MIN_API_VERSION=1.44: Engine 29.0's floor; and a private daemon at 1.40:
Engine 29.3's) and the prediction must equal what the daemon did. A unix-socket capture names
the process behind each connection (SO_PEERCRED), with its pid and uid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients_helpers import Ran, compose_available, run_all, run_curl, run_docker_cli, run_docker_py
from conftest import DOCKER, IMPLEMENTATIONS, VENV_BIN, docker_cli, free_port, in_ci, need
from test_capture import start_capture

DOCKDRIFT = str(VENV_BIN / "dockdrift")
ENGINE28 = IMPLEMENTATIONS["engine28"].host
ENGINE28_FLOOR = IMPLEMENTATIONS["engine28floor"].host
ENGINE28_ROOT = Path(os.environ.get("DOCKDRIFT_ENGINE28_DIR", "/tmp/dockdrift-engine28")) / "root"


def reachable(host: str) -> bool:
    return docker_cli(host, "version", "--format", "{{.Server.APIVersion}}",
                      timeout=30).returncode == 0


def dockdrift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKDRIFT, *args], capture_output=True, text=True, timeout=300)


def record(upstream: str, db: Path, workdir: Path) -> list[Ran]:
    """Every client through a capture in front of `upstream` into `db`."""
    workdir.mkdir(parents=True, exist_ok=True)
    cap = start_capture(workdir, "--upstream", upstream, "--listen", f"127.0.0.1:{free_port()}",
                        "--db", str(db))
    try:
        ran = run_all(cap.host, workdir / "compose")
    finally:
        code, err = cap.stop()
    assert code == 0, err
    return ran


def refused_in_store(db: Path) -> dict[tuple[str, str, str], set[str]]:
    """What the daemon really refused as too old: client key -> the API versions."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT client_name, client_version, peer_process, api_version FROM exchanges "
            "WHERE status_code = 400 AND error_message LIKE '%too old%'").fetchall()
    out: dict[tuple[str, str, str], set[str]] = {}
    for name, version, proc, api in rows:
        out.setdefault((name or "", version or "", proc or ""), set()).add(api)
    return out


def predicted(db: Path, *args: str) -> tuple[int, dict]:
    r = dockdrift("upgrade", "--db", str(db), *args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def breaks(doc: dict) -> dict[tuple[str, str, str], set[str]]:
    return {(c["client"] or "", c["version"] or "", c["process"] or ""):
            set(c["refused_api_versions"]) for c in doc["clients"] if c["verdict"] == "breaks"}


@pytest.fixture(scope="module")
def engine28_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clients recorded in front of Engine 28.5 (API 1.51, floor 1.24): nothing refused."""
    need(reachable(ENGINE28), f"no Engine 28.5 at {ENGINE28} (scripts/dockerd28-up.sh)")
    if in_ci():
        assert compose_available(), "CI=true and no compose plugin (scripts/plugins-up.sh)"
    work = tmp_path_factory.mktemp("clients28")
    db = work / "engine28.sqlite"
    ran = record(ENGINE28, db, work)
    assert not [r.name for r in ran if r.refused], [r.output for r in ran if r.refused]
    return db


def test_clients_names_every_client_and_its_process(engine28_store: Path):
    r = dockdrift("clients", "--db", str(engine28_store), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    by_name = {c["client"]: c for c in doc["clients"]}
    cli = by_name["docker-cli"]
    assert cli["process"] == "docker" and cli["uids"] == [os.getuid()]
    assert cli["user_agent"].startswith("Docker-Client/28.")
    # the CLI negotiates: a version-less HEAD /_ping, then its own newest version (1.50)
    assert "" in cli["api_versions"] and "1.50" in cli["api_versions"]
    py = by_name["docker-py"]
    assert py["process"].startswith("python") and {"1.35", "1.51", ""} <= set(py["api_versions"])
    raw = by_name["traefik-like"]
    assert set(raw["api_versions"]) == {"1.24"} and raw["status_codes"] == {"200": 3}
    assert by_name["curl"]["process"] == "curl"
    assert set(by_name["curl"]["api_versions"]) == {"", "1.41"}
    if compose_available():
        assert by_name["docker-compose"]["process"] == "docker-compose"
        assert by_name["docker-compose"]["user_agent"].startswith("compose/2.")
    for c in doc["clients"]:
        assert set(c) >= {"client", "version", "user_agent", "process", "api_versions",
                          "exchanges", "routes", "status_codes", "first_seen", "last_seen"}
        assert c["exchanges"] == sum(c["api_versions"].values()) == sum(
            c["status_codes"].values())


def test_engine29_prediction_equals_the_floor_mode_daemon(engine28_store: Path, tmp_path: Path):
    need(reachable(ENGINE28_FLOOR), f"no Engine 28.5 in floor mode at {ENGINE28_FLOOR} "
         "(scripts/dockerd28-up.sh --floor)")
    code, doc = predicted(engine28_store, "--to", "engine 29.0")
    assert (code, doc["min_api_version"], doc["max_api_version"]) == (1, "1.44", "1.52")
    expected = breaks(doc)
    assert {k[0] for k in expected} == {"docker-py", "traefik-like", "curl"}
    real_db = tmp_path / "floor.sqlite"
    ran = record(ENGINE28_FLOOR, real_db, tmp_path)
    assert refused_in_store(real_db) == expected
    # and from the clients' own side: who saw "too old"
    seen = {r.name for r in ran if r.refused}
    assert seen == {"docker-py 1.35", "raw v1.24", "curl /v1.41/containers/json"}, ran


@pytest.fixture
def floor140(tmp_path: Path) -> Iterator[str]:
    """A private Engine 28.5 with DOCKER_MIN_API_VERSION=1.40 (Engine 29.3's floor)."""
    dockerd = ENGINE28_ROOT / "usr/sbin/dockerd"
    need(dockerd.exists(), f"no Engine 28.5 binaries at {ENGINE28_ROOT} (scripts/dockerd28-up.sh)")
    d = Path(tempfile.mkdtemp(prefix="ddc-floor140-", dir="/tmp"))  # short: a unix socket path
    port = free_port()
    (d / "daemon.json").write_text("{}")
    env = {**os.environ, "DOCKER_MIN_API_VERSION": "1.40",
           "PATH": f"{ENGINE28_ROOT}/usr/bin:{ENGINE28_ROOT}/usr/sbin:/usr/bin:/usr/sbin:/bin:/sbin"}
    with open(d / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(
            [str(dockerd), "--config-file", str(d / "daemon.json"), "--iptables=false",
             "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
             "-H", f"unix://{d}/docker.sock", "-H", f"tcp://127.0.0.1:{port}",
             "--data-root", str(d / "data"), "--exec-root", str(d / "exec"),
             "--pidfile", str(d / "docker.pid"), "--containerd-namespace", d.name,
             "--containerd-plugins-namespace", f"{d.name}-plugins"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=2) as r:
                    assert json.load(r)["MinAPIVersion"] == "1.40"
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dockerd (floor 1.40) did not start: "
                                f"{(d / 'dockerd.log').read_text(errors='replace')[-1500:]}")
                time.sleep(0.3)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def test_min_api_140_prediction_equals_a_floor_140_daemon(engine28_store: Path, floor140: str,
                                                          tmp_path: Path):
    code, doc = predicted(engine28_store, "--min-api", "1.40")
    assert (code, doc["min_api_version"]) == (1, "1.40")
    expected = breaks(doc)
    assert {k[0] for k in expected} == {"docker-py", "traefik-like"}  # curl's 1.41 passes
    real_db = tmp_path / "floor140.sqlite"
    ran = record(floor140, real_db, tmp_path)
    assert refused_in_store(real_db) == expected
    assert {r.name for r in ran if r.refused} == {"docker-py 1.35", "raw v1.24"}, ran


def test_unix_socket_capture_names_the_process_pid_and_uid(tmp_path: Path):
    upstream = ENGINE28 if reachable(ENGINE28) else IMPLEMENTATIONS["engine20"].host
    need(reachable(upstream), f"no Docker Engine at {upstream}")
    need(os.path.exists(DOCKER), f"no docker CLI at {DOCKER}")
    sock_dir = Path(tempfile.mkdtemp(prefix="ddc-unix-", dir="/tmp"))
    db = tmp_path / "unix.sqlite"
    try:
        cap = start_capture(tmp_path, "--upstream", upstream, "--listen",
                            f"unix://{sock_dir}/d.sock", "--db", str(db))
        try:
            ran = [*run_docker_cli(cap.host), *run_curl(cap.host),
                   run_docker_py(cap.host, "auto")]
        finally:
            code, err = cap.stop()
        assert code == 0, err
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)
    r = dockdrift("clients", "--db", str(db), "--format", "json")
    assert r.returncode == 0, r.stderr
    got = {c["client"]: c for c in json.loads(r.stdout)["clients"]}
    pids = {name: {x.pid for x in ran if x.name.startswith(prefix)}
            for name, prefix in (("docker-cli", "docker "), ("curl", "curl "),
                                 ("docker-py", "docker-py"))}
    assert got["docker-cli"]["process"] == "docker"
    assert got["curl"]["process"] == "curl"
    assert got["docker-py"]["process"].startswith("python")
    for name, expected in pids.items():
        assert set(got[name]["pids"]) == expected, (name, got[name], expected)
        assert got[name]["uids"] == [os.getuid()]
    assert got["docker-cli"]["exe"] == [os.path.realpath(DOCKER)]
    text = dockdrift("clients", "--db", str(db)).stdout
    assert f"docker ({len(pids['docker-cli'])} pids, uid {os.getuid()})" in text
