"""Engine 26.1 and Podman: the client sees exactly what the server answers (issue 9, item 6).

The whole transparency matrix runs on Engine 20.10 (test_transparency_cli/_sdk); this module
runs the focused part of it on every other implementation, each with its own recorder: the
docker CLI and docker-py, direct and through the recorder, must see the same stdout, stderr,
exit codes and errors. What an implementation answers differently from Docker is data below
(measured), never a reason for the recorder to differ.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest
from docker.errors import NotFound

from conftest import Recorder, docker_cli, implementation_host
from transparency_helpers import (
    IMAGE, LABEL, PREFIX, Outcome, RowWatch, assert_same, both, cleanup, expect_rows, has,
    inspect_missing_checks, md5, module_recorder, popen_docker, raw_status, talk,
)

pytestmark = pytest.mark.docker

C = "/containers/{name:.*}"
EXEC_START = "/exec/{execid:.*}/start"
LABELS = dict([LABEL.split("=", 1)])
SCRIPT = "echo to-stdout; echo to-stderr >&2; exit 3"
# What `docker run --rm` exits with for SCRIPT. Podman 4.3.1 answers
# `POST /containers/{id}/wait?condition=removed` with {"StatusCode": 0} for a container that
# exited 3 (without --rm, or with condition=next-exit, it says 3).
RUN_RM_EXIT = {"engine26": 3, "podman": 0}


@dataclass(frozen=True)
class Side:
    """One implementation under test and the recorder in front of it."""

    name: str
    direct: str
    rec: Recorder

    @property
    def via(self) -> str:
        return self.rec.host


@pytest.fixture(scope="module", params=["engine26", "podman"])
def side(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    host = implementation_host(request.param)
    for rec in module_recorder(host, tmp_path_factory.mktemp(f"t{request.param}")):
        yield Side(request.param, host, rec)
        cleanup(host)


@pytest.fixture(scope="module")
def watch(side: Side) -> RowWatch:
    return RowWatch(side.rec.db)


@pytest.fixture(scope="module")
def box(side: Side) -> str:
    """A running container shared by the exec/cp tests."""
    name = f"{PREFIX}-box-{side.name}"
    r = docker_cli(side.direct, "run", "-d", "--name", name, "--label", LABEL, IMAGE,
                   "sleep", "600")
    assert r.returncode == 0, r.stderr
    return name


def test_run_rm_stdout_stderr_exit_code(side, watch):
    mark = watch.mark()
    direct, via = both(side.direct, side.via, "run", "--rm", IMAGE, "sh", "-c", SCRIPT)
    assert direct == Outcome(RUN_RM_EXIT[side.name], b"to-stdout\n", b"to-stderr\n")
    assert_same(direct, via)
    expect_rows(watch, mark, has("POST", "/containers/create", 201),
                has("POST", f"{C}/attach", 101, hijacked=True),
                has("POST", f"{C}/wait", 200), has("POST", f"{C}/start", 204))


def test_run_interactive_large_stdin(side):
    data = b"".join(b"line %d of the piped input\n" % i for i in range(100_000))
    direct, via = both(side.direct, side.via, "run", "--rm", "-i", IMAGE, "cat", input=data)
    assert (direct.rc, md5(direct.stdout)) == (0, md5(data))
    assert (via.rc, md5(via.stdout), via.stderr) == (direct.rc, md5(direct.stdout), direct.stderr)


def test_exec_output_exit_code_and_stdin(side, watch, box):
    mark = watch.mark()
    assert_same(*both(side.direct, side.via, "exec", box, "echo", "ok"))
    direct, via = both(side.direct, side.via, "exec", box, "sh", "-c",
                       "echo out; echo err >&2; exit 2")
    assert direct == Outcome(2, b"out\n", b"err\n")
    assert_same(direct, via)
    data = b"".join(b"%06d\n" % i for i in range(20_000))
    direct, via = both(side.direct, side.via, "exec", "-i", box, "sh", "-c",
                       "cat; echo stdin-closed >&2", input=data)
    assert (direct.rc, md5(direct.stdout), direct.stderr) == (0, md5(data), b"stdin-closed\n")
    assert_same(direct, via)
    expect_rows(watch, mark, has("POST", f"{C}/exec", 201),
                has("POST", EXEC_START, 101, hijacked=True, times=3))


def _attach(side: Side, host: str, tag: str) -> Outcome:
    """`docker attach`, the container printing only once it read a line from the attached
    stdin: its output cannot race the attach, with no event to wait for (`docker events
    --since/--until` printed nothing from Podman 4.3.1 here). Stdin stays open: at its EOF
    the Engine ends the attach session (moby's CopyStreams closes stdout too when StdinOnce
    is false), and the output that follows never arrives, direct or not (Podman keeps it)."""
    name = f"{PREFIX}-attach-{side.name}-{tag}"
    r = docker_cli(side.direct, "run", "-d", "-i", "--name", name, "--label", LABEL, IMAGE,
                   "sh", "-c", "read go; echo attached-out; echo attached-err >&2; exit 4")
    assert r.returncode == 0, r.stderr
    stdin_r, stdin_w = os.pipe()
    try:
        os.write(stdin_w, b"go\n")
        proc = popen_docker(host, "attach", name, stdin=stdin_r)
        out, err = proc.communicate(timeout=60)
        return Outcome(proc.returncode, out, err)
    finally:
        os.close(stdin_r)
        os.close(stdin_w)
        docker_cli(side.direct, "rm", "-f", name)


def test_attach(side, watch):
    mark = watch.mark()
    direct = _attach(side, side.direct, "direct")
    assert direct == Outcome(4, b"attached-out\n", b"attached-err\n")
    assert_same(direct, _attach(side, side.via, "via"))
    expect_rows(watch, mark, has("POST", f"{C}/attach", 101, hijacked=True))


def _follow(side: Side, host: str, tag: str) -> Outcome:
    """`logs -f` on a container still running: bounded because it exits by itself."""
    name = f"{PREFIX}-follow-{side.name}-{tag}"
    r = docker_cli(side.direct, "run", "-d", "--name", name, "--label", LABEL, IMAGE, "sh", "-c",
                   "echo first; sleep 1; echo second >&2; echo third")
    assert r.returncode == 0, r.stderr
    try:
        return Outcome.of(docker_cli(host, "logs", "-f", name, timeout=60))
    finally:
        docker_cli(side.direct, "rm", "-f", name)


def test_logs_follow_running_container(side, watch):
    mark = watch.mark()
    direct = _follow(side, side.direct, "direct")
    assert direct == Outcome(0, b"first\nthird\n", b"second\n")
    assert_same(direct, _follow(side, side.via, "via"))
    expect_rows(watch, mark, has("GET", f"{C}/logs", 200))


def test_cp_both_directions(side, watch, box, tmp_path):
    payload = os.urandom(300_000)
    src, dst = tmp_path / "payload.bin", tmp_path / "back.bin"
    src.write_bytes(payload)
    mark = watch.mark()
    results = {}
    for label, host in (("direct", side.direct), ("via", side.via)):
        docker_cli(side.direct, "exec", box, "rm", "-f", "/tmp/payload.bin")
        dst.unlink(missing_ok=True)
        into = Outcome.of(docker_cli(host, "cp", str(src), f"{box}:/tmp/payload.bin"))
        inside = docker_cli(side.direct, "exec", box, "md5sum", "/tmp/payload.bin").stdout
        out = Outcome.of(docker_cli(host, "cp", f"{box}:/tmp/payload.bin", str(dst)))
        results[label] = (into, inside.split()[:1], out, md5(dst.read_bytes()))
    assert results["direct"][1:4:2] == ([md5(payload).encode()], md5(payload))
    assert results["via"] == results["direct"]
    direct, via = both(side.direct, side.via, "cp", f"{box}:/tmp/payload.bin", "-")
    assert direct.rc == 0 and len(direct.stdout) > len(payload)
    assert (via.rc, md5(via.stdout), via.stderr) == (0, md5(direct.stdout), direct.stderr)
    expect_rows(watch, mark, has("PUT", f"{C}/archive", 200), has("GET", f"{C}/archive", 200))


def test_build_legacy_builder(side, watch, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello from the build context\n")
    (ctx / "Dockerfile").write_text(f"FROM {IMAGE}\nCOPY hello.txt /hello.txt\n")
    tag = f"{PREFIX}-build"
    mark = watch.mark()
    seen = {}
    for label, host in (("direct", side.direct), ("via", side.via)):
        # Podman's output depends on whether the tag exists (`COMMIT name` vs `name:latest`).
        docker_cli(side.direct, "image", "rm", "-f", tag)
        seen[label] = Outcome.of(docker_cli(host, "build", "--no-cache", "-t", tag, str(ctx),
                                            env={"DOCKER_BUILDKIT": "0"}))
    assert seen["direct"].rc == 0 and b"Successfully tagged" in seen["direct"].stdout
    # Each build makes new image IDs: the only normalisation.
    assert_same(seen["direct"].normalised(), seen["via"].normalised())
    ran = docker_cli(side.via, "run", "--rm", tag, "cat", "/hello.txt")
    assert Outcome.of(ran) == Outcome(0, b"hello from the build context\n", b"")
    expect_rows(watch, mark, has("POST", "/build", 200))
    docker_cli(side.direct, "image", "rm", "-f", tag)


def test_inspect_missing_object(side, watch):
    missing = f"{PREFIX}-missing"
    mark = watch.mark()
    direct, via = both(side.direct, side.via, "inspect", missing)
    assert direct.rc == 1 and missing.encode() in direct.stderr
    assert_same(direct, via)
    rows = expect_rows(watch, mark, *inspect_missing_checks())
    for r in rows:  # every stored status is what the server answers to the same request
        if r["method"] in ("GET", "HEAD"):
            target = r["path"] + (f"?{r['query']}" if r["query"] else "")
            assert raw_status(side.direct, r["method"], target) == r["status_code"], target


@pytest.fixture(scope="module")
def clients(side: Side) -> Iterator[dict[str, docker.DockerClient]]:
    made = {"direct": docker.DockerClient(base_url=side.direct, timeout=120),
            "via": docker.DockerClient(base_url=side.via, timeout=120)}
    yield made
    for client in made.values():
        client.close()


def test_sdk_run_wait_logs(clients, watch):
    mark = watch.mark()
    seen = {}
    for label, client in clients.items():
        c = client.containers.run(IMAGE, ["sh", "-c", SCRIPT], detach=True, labels=LABELS)
        status = c.wait(timeout=120)
        seen[label] = (status["StatusCode"], c.logs(stdout=True, stderr=False),
                       c.logs(stdout=False, stderr=True))
        c.remove()
    assert seen["direct"] == (3, b"to-stdout\n", b"to-stderr\n")
    assert seen["via"] == seen["direct"]
    expect_rows(watch, mark, has("POST", "/containers/create", 201),
                has("POST", f"{C}/wait", 200), has("GET", f"{C}/logs", 200))


def test_sdk_exec_run_repeated_on_one_client(clients, box, watch):
    calls = [["echo", "one"], ["sh", "-c", "echo out; echo err >&2; exit 2"],
             ["sh", "-c", "exit 7"], ["cat", "/etc/passwd"], ["echo", "last"]]
    mark = watch.mark()
    seen = {label: [tuple(client.containers.get(box).exec_run(cmd, demux=True)) for cmd in calls]
            for label, client in clients.items()}
    assert seen["direct"][1] == (2, (b"out\n", b"err\n")) and seen["direct"][2][0] == 7
    assert seen["via"] == seen["direct"]
    expect_rows(watch, mark, has("POST", EXEC_START, 101, hijacked=True, times=len(calls)))


def test_sdk_attach_socket_with_stdin(clients, watch):
    data = b"attached stdin\n" * 1000
    mark = watch.mark()
    seen = {}
    for label, client in clients.items():
        api = client.api
        c = api.create_container(IMAGE, ["sh", "-c", "cat; echo done >&2"], stdin_open=True,
                                 labels=LABELS)
        sock = api.attach_socket(c["Id"], params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                  "stream": 1})
        api.start(c["Id"])
        seen[label] = (talk(sock, data), api.wait(c["Id"], timeout=120)["StatusCode"])
        api.remove_container(c["Id"])
    assert seen["direct"] == ((data, b"done\n"), 0)
    assert seen["via"] == seen["direct"]
    expect_rows(watch, mark, has("POST", f"{C}/attach", 101, hijacked=True))


def test_sdk_not_found(clients, watch):
    mark = watch.mark()
    errors = {}
    for label, client in clients.items():
        with pytest.raises(NotFound) as info:
            client.containers.get(f"{PREFIX}-missing")
        errors[label] = (info.value.status_code, info.value.explanation)
    assert errors["direct"][0] == 404 and errors["via"] == errors["direct"]
    expect_rows(watch, mark, has("GET", f"{C}/json", 404))
