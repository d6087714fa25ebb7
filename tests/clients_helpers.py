"""Real clients of the Docker API, each in its own process, for the clients/upgrade tests.

Each returns what happened to it: its pid and whether the daemon answered any of its
requests with 400 "too old" (the refusal an API floor gives).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import DOCKER

PLUGINS_CONFIG = os.environ.get("DOCKDRIFT_PLUGINS_CONFIG", "/tmp/dockdrift-plugins/config")
TOO_OLD = "too old"

# docker-py pinned to an old API version, and on `auto` (negotiates from GET /version)
DOCKER_PY = """
import sys, docker
version = sys.argv[2]
c = docker.DockerClient(base_url=sys.argv[1], version=version)
refused = False
for call in (lambda: c.containers.list(all=True), lambda: c.images.list(), c.version):
    try:
        call()
    except docker.errors.APIError as exc:
        refused |= exc.status_code == 400 and "too old" in str(exc)
print("REFUSED" if refused else "SERVED")
"""
# A raw client pinned to /v1.24, like Traefik's old Docker provider (plain http.client)
RAW_V124 = """
import http.client, sys, socket
target = sys.argv[1]
refused = False
for path in ("/v1.24/version", "/v1.24/containers/json?all=1", "/v1.24/events?until=0"):
    if target.startswith("unix://"):
        conn = http.client.HTTPConnection("localhost")
        conn.sock = socket.socket(socket.AF_UNIX); conn.sock.connect(target[7:])
    else:
        host, port = target.removeprefix("tcp://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", path, headers={"User-Agent": "traefik-like/1.7 (raw, pinned v1.24)"})
    r = conn.getresponse(); body = r.read()
    refused |= r.status == 400 and b"too old" in body
print("REFUSED" if refused else "SERVED")
"""


@dataclass
class Ran:
    name: str  # how the test names it
    pid: int
    refused: bool
    output: str


def _run(name: str, cmd: list[str], env: dict[str, str] | None = None, timeout: float = 120,
         refused_if: str = "REFUSED", cwd: Path | None = None) -> Ran:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd)
    out, _ = proc.communicate(timeout=timeout)
    text = out.decode(errors="replace")
    return Ran(name, proc.pid, refused_if in text, text)


def docker_cli_env(host: str) -> dict[str, str]:
    return {"DOCKER_HOST": host, "DOCKER_CLI_HINTS": "false", "DOCKER_CONFIG": PLUGINS_CONFIG}


def run_docker_cli(host: str) -> list[Ran]:
    env = docker_cli_env(host)
    return [_run(f"docker {' '.join(a)}", [DOCKER, *a], env, refused_if=TOO_OLD)
            for a in (("version",), ("ps", "-a"), ("volume", "ls"))]


def run_docker_py(host: str, version: str) -> Ran:
    return _run(f"docker-py {version}", [sys.executable, "-c", DOCKER_PY, host, version])


def run_raw_v124(host: str) -> Ran:
    return _run("raw v1.24", [sys.executable, "-c", RAW_V124, host])


def run_curl(host: str) -> list[Ran]:
    if host.startswith("unix://"):
        base, extra = "http://localhost", ["--unix-socket", host[7:]]
    else:
        base, extra = host.replace("tcp://", "http://"), []
    return [_run(f"curl {p}", ["curl", "-s", *extra, base + p], refused_if=TOO_OLD)
            for p in ("/_ping", "/v1.41/containers/json")]


def compose_available() -> bool:
    return (Path(PLUGINS_CONFIG) / "cli-plugins" / "docker-compose").exists()


def run_compose(host: str, workdir: Path) -> Ran:
    """`docker compose -p clients-e2e ps -a` (a project by name: no compose file needed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return _run("compose ps", [DOCKER, "compose", "-p", "clients-e2e", "ps", "-a"],
                docker_cli_env(host), refused_if=TOO_OLD, cwd=workdir)


def run_all(host: str, workdir: Path) -> list[Ran]:
    """Every client once against `host`: the docker CLI, docker-py pinned to 1.35 and on
    auto, the raw client pinned to /v1.24, curl, and compose (when its plugin is there)."""
    ran = [*run_docker_cli(host), run_docker_py(host, "1.35"), run_docker_py(host, "auto"),
           run_raw_v124(host), *run_curl(host)]
    if compose_available():
        ran.append(run_compose(host, workdir))
    return ran
