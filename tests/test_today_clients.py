"""Today's clients through both recording paths (issue 19, item 5): docker compose v2, buildx
(BuildKit) and docker-py against Engine 28.5 and Podman 5.8, direct and through the recorder.

Each server is driven once directly (cached per module) and once through each recording path
(`mitmdump -s addons/docker_recorder.py`, `dockdrift capture`): the client must see the same
exit codes, stdout and stderr, and every exchange must be stored with a route. Only what is
timing-dependent is normalised (durations, IDs, the order of lines that parallel goroutines
print). The CLI is the docker CLI 28.5 unpacked with Engine 28.5 (DOCKDRIFT_DOCKER_TODAY_CLI),
the plugins come from scripts/plugins-up.sh (DOCKDRIFT_DOCKER_CONFIG).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from docker.errors import NotFound

from conftest import Recorder, implementation_host, need
from transparency_helpers import (
    IMAGE, LABEL, PREFIX, Outcome, RowWatch, cleanup, expect_rows, has, md5,
    module_recorder, normalise_ids,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TODAY_CLI = os.environ.get("DOCKDRIFT_DOCKER_TODAY_CLI") or "/tmp/dockdrift-engine28/root/usr/bin/docker"
PLUGINS = Path(os.environ.get("DOCKDRIFT_DOCKER_CONFIG") or "/tmp/dockdrift-plugins/config")
C = "/containers/{name:.*}"
EXEC_START = "/exec/{execid:.*}/start"
PROJECT = f"ddtc{os.getpid()}"  # compose project names: lowercase letters, digits, - and _
COMPOSE = f"""\
services:
  web:
    image: {IMAGE}
    network_mode: none
    labels: ["{LABEL}"]
    command: ["sh", "-c", "echo web-started; sleep 600"]
  job:
    image: {IMAGE}
    network_mode: none
    labels: ["{LABEL}"]
    command: ["sh", "-c", "echo job-out; echo job-err >&2; sleep 5"]
"""
# The job lives five seconds: compose 2.40's attached `up` learns that its container ended from
# the events stream it opens while starting it (no `since`); against Podman 5.8 (events read
# from a file), a container that died before Podman followed that stream leaves compose waiting
# forever. With a one-second job it happened through a plain TCP relay (1 in 2, session 4) and,
# on a loaded CI machine, directly too (the recorder's store of that run holds no exchange of
# the session): a race of compose and Podman, not of the proxy.


@dataclass(frozen=True)
class Side:
    """One server and one recording path in front of it."""

    server: str
    path: str
    direct: str
    rec: Recorder

    @property
    def via(self) -> str:
        return self.rec.host


@pytest.fixture(scope="module", params=[(s, p) for s in ("engine28", "podman5")
                                        for p in ("mitmdump", "capture")],
                ids=lambda sp: f"{sp[0]}-{sp[1]}")
def side(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    server, path = request.param
    host = implementation_host(server)
    for rec in module_recorder(host, tmp_path_factory.mktemp(f"{server}-{path}"), path):
        yield Side(server, path, host, rec)
        cleanup(host)


@pytest.fixture(scope="module")
def watch(side: Side) -> RowWatch:
    return RowWatch(side.rec.db)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCKER_CONFIG of this module's own (buildx writes its state there) with the plugins."""
    need(os.access(TODAY_CLI, os.X_OK), f"no docker CLI 28.5 at {TODAY_CLI} (run scripts/dockerd28-up.sh)")
    plugins = PLUGINS / "cli-plugins"
    need((plugins / "docker-compose").exists() and (plugins / "docker-buildx").exists(),
         f"no compose/buildx plugins in {plugins} (run scripts/plugins-up.sh)")
    cfg = tmp_path_factory.mktemp("docker-config")
    (cfg / "cli-plugins").symlink_to(plugins)
    (cfg / "config.json").write_text("{}")
    return cfg


@pytest.fixture(scope="module")
def direct_runs() -> dict[tuple[str, str], object]:
    """What each server answered directly, per scenario: run once, compared with each path."""
    return {}


def direct_once(cache: dict, side: Side, scenario: str, run: Callable[[str], object]) -> object:
    key = (side.server, scenario)
    if key not in cache:
        cache[key] = run(side.direct)
    return cache[key]


def cli(config: Path, host: str, *args: str, input: bytes | None = b"",
        env: dict[str, str] | None = None, timeout: float = 180) -> Outcome:
    """The docker CLI 28.5 with the plugins; stdin a pipe (never the terminal of the run)."""
    full = {**os.environ, "DOCKER_HOST": host, "DOCKER_CONFIG": str(config),
            "DOCKER_CLI_HINTS": "false", **(env or {})}
    full.pop("DOCKER_CONTEXT", None)
    return Outcome.of(subprocess.run([TODAY_CLI, *args], input=input, capture_output=True,
                                     timeout=timeout, env=full))


def sorted_lines(o: Outcome) -> Outcome:
    """Lines of parallel work (compose's per-container progress) come in any order."""
    def srt(b: bytes) -> bytes:
        return b"".join(sorted(b.splitlines(keepends=True)))
    return Outcome(o.rc, srt(o.stdout), srt(o.stderr))


def follow_until(config: Path, host: str, args: list[str], want: list[bytes],
                 timeout: float = 60) -> Outcome:
    """A command that never exits by itself (compose 2.40's `logs -f` keeps following a
    finished service): read until every `want` was printed, then SIGTERM it."""
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_CONFIG": str(config),
           "DOCKER_CLI_HINTS": "false"}
    proc = subprocess.Popen([TODAY_CLI, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    got = {"out": bytearray(), "err": bytearray()}

    def pump(stream, into: bytearray) -> None:
        while chunk := stream.read1(65536):
            into.extend(chunk)
    threads = [threading.Thread(target=pump, args=(proc.stdout, got["out"])),
               threading.Thread(target=pump, args=(proc.stderr, got["err"]))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        seen = bytes(got["out"] + got["err"])
        if all(w in seen for w in want):
            break
        time.sleep(0.05)
    proc.terminate()
    proc.wait(30)
    for t in threads:
        t.join(30)
    return sorted_lines(Outcome(proc.returncode, bytes(got["out"]), bytes(got["err"])))


def compose_session(config: Path, project_dir: Path, host: str) -> dict[str, Outcome]:
    """A compose user's session, from `up -d` to `down`; one Outcome per step."""
    base = ["compose", "-f", str(project_dir / "compose.yaml"), "-p", PROJECT]
    data = b"".join(b"%06d\n" % i for i in range(20_000))
    steps: dict[str, Outcome] = {}
    try:
        steps["up -d"] = cli(config, host, *base, "up", "-d", "web")
        steps["ps"] = cli(config, host, *base, "ps", "--format",
                          "{{.Name}} {{.Service}} {{.State}} {{.Image}}")
        script = "echo out; echo err >&2; exit 2"
        steps["exec -T"] = cli(config, host, *base, "exec", "-T", "web", "sh", "-c", script)
        steps["exec"] = cli(config, host, *base, "exec", "web", "sh", "-c", script)
        stdin = cli(config, host, *base, "exec", "-T", "web", "sh", "-c",
                    "cat; echo stdin-closed >&2", input=data)
        steps["exec -T stdin"] = Outcome(stdin.rc, md5(stdin.stdout).encode(), stdin.stderr)
        steps["up (attached)"] = cli(config, host, *base, "up", "job")
        steps["logs -f"] = follow_until(config, host, [*base, "logs", "-f", "job"],
                                        [b"job-out", b"job-err"])
        steps["run --rm"] = cli(config, host, *base, "run", "--rm", "job", "sh", "-c",
                                "echo run-out; echo run-err >&2; exit 5")
    finally:
        steps["down"] = sorted_lines(cli(config, host, *base, "down", "-t", "0"))
    return steps


def test_compose_session(side, watch, config, direct_runs, tmp_path_factory):
    project_dir = tmp_path_factory.mktemp("compose")
    (project_dir / "compose.yaml").write_text(COMPOSE)
    direct = direct_once(direct_runs, side, "compose",
                         lambda host: compose_session(config, project_dir, host))
    assert isinstance(direct, dict)
    # What a compose user sees directly (so a broken server cannot pass as "the same").
    assert direct["up -d"].rc == 0, direct["up -d"]
    ps = direct["ps"].stdout  # Podman names the image docker.io/library/busybox:local
    assert ps.startswith(f"{PROJECT}-web-1 web running ".encode()), ps
    assert ps.endswith(f"{IMAGE}\n".encode()) and ps.count(b"\n") == 1, ps
    assert direct["exec -T"] == Outcome(2, b"out\n", b"err\n")
    assert direct["exec"] == Outcome(2, b"out\n", b"err\n")
    data = b"".join(b"%06d\n" % i for i in range(20_000))
    assert direct["exec -T stdin"] == Outcome(0, md5(data).encode(), b"stdin-closed\n")
    assert direct["up (attached)"].rc == 0 and b"job-out" in direct["up (attached)"].stdout
    assert b"job-out" in direct["logs -f"].stdout + direct["logs -f"].stderr
    run = direct["run --rm"]  # compose adds an empty line on stderr after the container's
    assert (run.rc, run.stdout, run.stderr.rstrip(b"\n")) == (5, b"run-out\n", b"run-err")
    assert direct["down"].rc == 0
    mark = watch.mark()
    via = compose_session(config, project_dir, side.via)
    for step, seen in direct.items():
        assert (step, via[step]) == (step, seen)
    expect_rows(watch, mark, has("POST", "/containers/create", 201),
                has("POST", f"{C}/start", 204), has("POST", f"{C}/exec", 201),
                has("POST", EXEC_START, 101, hijacked=True),
                has("POST", f"{C}/attach", 101, hijacked=True),
                has("GET", f"{C}/logs", 200), has("POST", f"{C}/wait", 200))


# BuildKit's plain progress repeats a vertex's line on each update and prints durations and
# transfer sizes only when the timing happens to show them (the same build, run twice
# directly, differs there: incremental context sync, "0.0s done" or "done").
_DURATION = re.compile(rb"(?<![\w.])\d+\.\d+s?\b ?")
_TRANSFER = re.compile(rb"(transferring \w+:)(?: \d+(?:\.\d+)?[kMG]?B)?")


def _build_outcome(o: Outcome) -> Outcome:
    """A build's output with what varies between two identical builds taken out: IDs,
    durations, transfer sizes, repeated progress lines and their order."""
    def norm(b: bytes) -> bytes:
        b = _TRANSFER.sub(rb"\1 <n>", _DURATION.sub(b"", normalise_ids(b)))
        lines = {line.rstrip() for line in b.splitlines()}
        # "#8 writing image <id>" is printed again as "... done" once it is: only the last
        lines = {line for line in lines if line + b" done" not in lines
                 # a vertex found in the cache may be reported DONE before CACHED
                 and not (line.endswith(b" DONE") and line[:-5] + b" CACHED" in lines)}
        return b"".join(line + b"\n" for line in sorted(lines))
    return Outcome(o.rc, norm(o.stdout), norm(o.stderr))


def build_session(config: Path, ctx: Path, server: str, host: str) -> dict[str, Outcome]:
    """A build that works, a build whose RUN fails, and a run of the built image. Engine:
    `docker buildx build --load` (BuildKit). Podman has no BuildKit (buildx falls back to a
    docker-container builder that pulls moby/buildkit from a registry): its own builder,
    the one `DOCKER_BUILDKIT=0 docker build` reaches."""
    tag = f"{PREFIX}-today:latest"
    if server.startswith("engine"):
        cmd, env = ["buildx", "build", "--load", "--network", "none", "--progress", "plain"], {}
    else:
        cmd, env = ["build"], {"DOCKER_BUILDKIT": "0"}
    steps: dict[str, Outcome] = {}
    cli(config, host, "image", "rm", "-f", tag)
    try:
        steps["build"] = _build_outcome(cli(config, host, *cmd, "--no-cache", "-t", tag, str(ctx),
                                            env=env))
        steps["run"] = cli(config, host, "run", "--rm", tag, "cat", "/built.txt", "/hello.txt")
        steps["failing RUN"] = _build_outcome(cli(config, host, *cmd, "--no-cache", "-f",
                                                  str(ctx / "Failing.Dockerfile"), str(ctx),
                                                  env=env))
    finally:
        cli(config, host, "image", "rm", "-f", tag)
    return steps


def test_build(side, watch, config, direct_runs, tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ctx")
    (ctx / "hello.txt").write_text("hello from the build context\n")
    (ctx / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo built-by-the-builder > /built.txt"
                                    " && cat /built.txt\nCOPY hello.txt /hello.txt\n")
    (ctx / "Failing.Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo before-fail && exit 7\n")
    direct = direct_once(direct_runs, side, "build",
                         lambda host: build_session(config, ctx, side.server, host))
    assert isinstance(direct, dict)
    assert direct["build"].rc == 0, direct["build"]
    assert direct["run"] == Outcome(0, b"built-by-the-builder\nhello from the build context\n", b"")
    failed = direct["failing RUN"]
    assert failed.rc == 1 and b"before-fail" in failed.stdout + failed.stderr, failed
    mark = watch.mark()
    via = build_session(config, ctx, side.server, side.via)
    for step, seen in direct.items():
        assert (step, via[step]) == (step, seen)
    if side.server.startswith("engine"):  # BuildKit: its session (h2c) and gRPC over /grpc
        expect_rows(watch, mark, has("POST", "/session", 101, hijacked=True),
                    has("POST", "/grpc", 101, hijacked=True))
    else:
        expect_rows(watch, mark, has("POST", "/build", 200))


@pytest.fixture(scope="module")
def clients(side: Side) -> Iterator[dict[str, docker.DockerClient]]:
    made = {"direct": docker.DockerClient(base_url=side.direct, timeout=120),
            "via": docker.DockerClient(base_url=side.via, timeout=120)}
    yield made
    for client in made.values():
        client.close()


def test_sdk_run_exec_and_not_found(side, clients, watch):
    """docker-py: run, wait, logs; exec_run on a running container; a missing container."""
    labels = dict([LABEL.split("=", 1)])
    mark = watch.mark()
    seen = {}
    for label, client in clients.items():
        c = client.containers.run(IMAGE, ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"],
                                  detach=True, labels=labels)
        status = c.wait(timeout=120)["StatusCode"]
        logs = (c.logs(stdout=True, stderr=False), c.logs(stdout=False, stderr=True))
        c.remove()
        box = client.containers.run(IMAGE, ["sleep", "600"], detach=True, labels=labels)
        try:
            execs = [tuple(box.exec_run(cmd, demux=True)) for cmd in
                     (["echo", "one"], ["sh", "-c", "echo out; echo err >&2; exit 2"])]
        finally:
            box.remove(force=True)
        with pytest.raises(NotFound) as missing:
            client.containers.get(f"{PREFIX}-missing")
        seen[label] = (status, logs, execs, missing.value.status_code)
    assert seen["direct"] == (3, (b"to-stdout\n", b"to-stderr\n"),
                              [(0, (b"one\n", None)), (2, (b"out\n", b"err\n"))], 404)
    assert seen["via"] == seen["direct"]
    expect_rows(watch, mark, has("POST", "/containers/create", 201),
                has("POST", f"{C}/wait", 200), has("GET", f"{C}/logs", 200),
                has("POST", EXEC_START, 101, hijacked=True, times=2),
                has("GET", f"{C}/json", 404))


def test_every_exchange_of_the_module_is_tagged(side, watch):
    """Whatever the clients above sent (compose's, buildx's, docker-py's), a route each."""
    rows = watch.since(0, lambda rs: bool(rs))
    assert rows
    unrouted = sorted({(r["method"], r["path"]) for r in rows if not r["route"] or not r["handler"]})
    assert not unrouted, unrouted


def test_floor_mode_refuses_old_clients_the_same_through_both_paths(tmp_path, config):
    """Engine 29.0's floor (Engine 28.5 with DOCKER_MIN_API_VERSION=1.44): a client pinned to
    API 1.41 (docker-py scripts, old SDKs) gets the same 400 directly and through the recorder,
    and the refusal is stored with its route; a current client is not refused."""
    host = implementation_host("engine28floor")
    for path in ("mitmdump", "capture"):
        folder = tmp_path / path
        folder.mkdir()
        for rec in module_recorder(host, folder, path):  # stops it, checks it exits 0
            watch, mark = RowWatch(rec.db), 0
            seen = {}
            for label, url in (("direct", host), ("via", rec.host)):
                old = docker.APIClient(base_url=url, version="1.41", timeout=60)
                with pytest.raises(docker.errors.APIError) as refused:
                    old.version()
                old.close()
                pinned = cli(config, url, "version", "--format", "{{.Server.Version}}",
                             env={"DOCKER_API_VERSION": "1.41"})
                current = cli(config, url, "version", "--format", "{{.Server.MinAPIVersion}}")
                seen[label] = (refused.value.status_code, refused.value.explanation,
                               pinned, current)
            assert seen["direct"][0] == 400 and "1.41 is too old" in seen["direct"][1]
            assert seen["direct"][2].rc == 1 and b"1.41 is too old" in seen["direct"][2].stderr
            assert seen["direct"][3] == Outcome(0, b"1.44\n", b"")
            assert seen["via"] == seen["direct"]
            expect_rows(watch, mark, has("GET", "/version", 400), has("GET", "/version", 200))
