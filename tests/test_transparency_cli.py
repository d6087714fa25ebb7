"""The real docker CLI sees exactly the same through the recorder as direct (issue 2, item 5).

Each call runs against the real dockerd and through a recorder in front of it; stdout,
stderr and exit code must be identical. Only image/container IDs are normalised, and only
where two runs legitimately create different objects (build); `stats` values differ
between two samples, so there only the exit code and table shape are compared.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from conftest import Recorder, docker_cli
from transparency_helpers import (
    IMAGE, LABEL, PREFIX, Outcome, RowWatch, assert_same, both, cleanup, expect_rows, has,
    inspect_missing_checks, md5, module_recorder, popen_docker, raw_status, wait_for_event,
)

pytestmark = pytest.mark.docker

C = "/containers/{name:.*}"


@pytest.fixture(scope="module")
def rec(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    yield from module_recorder(docker_host, tmp_path_factory.mktemp("tcli"))


@pytest.fixture(scope="module")
def watch(rec: Recorder) -> RowWatch:
    return RowWatch(rec.db)


@pytest.fixture(scope="module")
def box(docker_host: str) -> Iterator[str]:
    """A running container shared by the exec/cp/stats tests."""
    name = f"{PREFIX}-box"
    r = docker_cli(docker_host, "run", "-d", "--name", name, "--label", LABEL, IMAGE,
                   "sleep", "600")
    assert r.returncode == 0, r.stderr
    yield name
    cleanup(docker_host)


def test_run_attached_stdout_stderr_exit_code(docker_host, rec, watch):
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "run", "--rm", IMAGE, "sh", "-c",
                       "echo to-stdout; echo to-stderr >&2; exit 3")
    assert direct == Outcome(3, b"to-stdout\n", b"to-stderr\n")
    assert_same(direct, via)
    expect_rows(watch, mark, has("POST", "/containers/create", 201),
                has("POST", f"{C}/attach", 101, hijacked=True),
                has("POST", f"{C}/wait", 200), has("POST", f"{C}/start", 204))


def test_run_interactive_large_stdin(docker_host, rec):
    data = b"".join(b"line %d of the piped input\n" % i for i in range(100_000))
    direct, via = both(docker_host, rec.host, "run", "--rm", "-i", IMAGE, "cat", input=data)
    assert (direct.rc, md5(direct.stdout)) == (0, md5(data))
    assert (via.rc, md5(via.stdout), via.stderr) == (direct.rc, md5(direct.stdout), direct.stderr)


def test_exec_output_and_exit_codes(docker_host, rec, watch, box):
    mark = watch.mark()
    assert_same(*both(docker_host, rec.host, "exec", box, "echo", "ok"))
    direct, via = both(docker_host, rec.host, "exec", box, "sh", "-c",
                       "echo out; echo err >&2; exit 2")
    assert direct == Outcome(2, b"out\n", b"err\n")
    assert_same(direct, via)
    expect_rows(watch, mark, has("POST", f"{C}/exec", 201),
                has("POST", "/exec/{execid:.*}/start", 101, hijacked=True),
                has("GET", "/exec/{execid:.*}/json", 200))


def test_exec_interactive_stdin(docker_host, rec, box):
    data = b"".join(b"%06d\n" % i for i in range(20_000))
    direct, via = both(docker_host, rec.host, "exec", "-i", box, "sh", "-c",
                       "cat; echo stdin-closed >&2", input=data)
    assert (direct.rc, md5(direct.stdout), direct.stderr) == (0, md5(data), b"stdin-closed\n")
    assert_same(direct, via)


def _attach(docker_host: str, host: str, tag: str) -> Outcome:
    """`docker attach` to a running container that prints only once the client is attached."""
    name = f"{PREFIX}-attach-{tag}"
    script = ("while [ ! -e /tmp/go ]; do sleep 0.05; done; "
              "echo attached-out; echo attached-err >&2; exit 4")
    r = docker_cli(docker_host, "run", "-d", "--name", name, "--label", LABEL, IMAGE,
                   "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    since = time.time() - 1
    proc = popen_docker(host, "attach", name)
    try:
        wait_for_event(docker_host, name, "attach", since)
        docker_cli(docker_host, "exec", name, "touch", "/tmp/go")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        docker_cli(docker_host, "rm", "-f", name)
    return Outcome(proc.returncode, out, err)


def test_attach(docker_host, rec, watch):
    mark = watch.mark()
    direct = _attach(docker_host, docker_host, "direct")
    assert direct == Outcome(4, b"attached-out\n", b"attached-err\n")
    assert_same(direct, _attach(docker_host, rec.host, "via"))
    expect_rows(watch, mark, has("POST", f"{C}/attach", 101, hijacked=True))


def test_logs_and_follow(docker_host, rec, watch):
    name = f"{PREFIX}-logs"
    docker_cli(docker_host, "run", "-d", "--name", name, "--label", LABEL, IMAGE, "sh", "-c",
               "for i in 1 2 3; do echo out$i; echo err$i >&2; done")
    assert docker_cli(docker_host, "wait", name).stdout == b"0\n"
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "logs", name)
    assert direct == Outcome(0, b"out1\nout2\nout3\n", b"err1\nerr2\nerr3\n")
    assert_same(direct, via)
    assert_same(*both(docker_host, rec.host, "logs", "-f", "--tail", "2", name))
    expect_rows(watch, mark, has("GET", f"{C}/logs", 200))


def _follow_running(docker_host: str, host: str, tag: str) -> Outcome:
    """`logs -f` on a container still running: bounded because it exits by itself."""
    name = f"{PREFIX}-follow-{tag}"
    r = docker_cli(docker_host, "run", "-d", "--name", name, "--label", LABEL, IMAGE, "sh", "-c",
                   "echo first; sleep 1; echo second >&2; echo third")
    assert r.returncode == 0, r.stderr
    try:
        return Outcome.of(docker_cli(host, "logs", "-f", name, timeout=60))
    finally:
        docker_cli(docker_host, "rm", "-f", name)


def test_logs_follow_running_container(docker_host, rec):
    direct = _follow_running(docker_host, docker_host, "direct")
    assert direct == Outcome(0, b"first\nthird\n", b"second\n")
    assert_same(direct, _follow_running(docker_host, rec.host, "via"))


def test_events_bounded_window(docker_host, rec, watch):
    since = f"{time.time() - 1:.3f}"
    label = f"{LABEL}-events"
    cid = docker_cli(docker_host, "create", "--label", label, IMAGE, "true").stdout.strip()
    docker_cli(docker_host, "rm", cid.decode())
    until = f"{time.time():.3f}"
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "events", "--since", since, "--until", until,
                       "--filter", f"label={label}")
    assert direct.rc == 0 and direct.stdout.count(b" container create ") == 1
    assert direct.stdout.count(b" container destroy ") == 1
    assert_same(direct, via)
    expect_rows(watch, mark, has("GET", "/events", 200))


def test_cp_both_directions(docker_host, rec, watch, box, tmp_path):
    payload = os.urandom(300_000)
    src, dst = tmp_path / "payload.bin", tmp_path / "back.bin"
    src.write_bytes(payload)
    results = {}
    for label, host in (("direct", docker_host), ("via", rec.host)):
        docker_cli(docker_host, "exec", box, "rm", "-f", "/tmp/payload.bin")
        dst.unlink(missing_ok=True)
        into = Outcome.of(docker_cli(host, "cp", str(src), f"{box}:/tmp/payload.bin"))
        inside = docker_cli(docker_host, "exec", box, "md5sum", "/tmp/payload.bin").stdout
        out = Outcome.of(docker_cli(host, "cp", f"{box}:/tmp/payload.bin", str(dst)))
        results[label] = (into, inside.split()[:1], out, md5(dst.read_bytes()))
    assert results["direct"][1] == [md5(payload).encode()]
    assert results["direct"][3] == md5(payload)
    assert results["via"] == results["direct"]
    # The tar stream itself (`cp ... -`) is byte-identical too: same file, same mtime.
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "cp", f"{box}:/tmp/payload.bin", "-")
    assert direct.rc == 0 and len(direct.stdout) > len(payload)
    assert (via.rc, md5(via.stdout), via.stderr) == (0, md5(direct.stdout), direct.stderr)
    expect_rows(watch, mark, has("GET", f"{C}/archive", 200))


def test_build_copies_file(docker_host, rec, watch, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello from the build context\n")
    (ctx / "Dockerfile").write_text(
        f"FROM {IMAGE}\nCOPY hello.txt /hello.txt\n")
    tag = f"{PREFIX}-build"
    # The legacy builder (POST /build): Debian's docker.io ships no buildx plugin.
    env = {"DOCKER_BUILDKIT": "0"}
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "build", "--no-cache", "-t", tag, str(ctx),
                       env=env)
    assert direct.rc == 0 and b"Successfully tagged" in direct.stdout
    # Each build makes new image and intermediate container IDs: the only normalisation.
    assert_same(direct.normalised(), via.normalised())
    ran = docker_cli(rec.host, "run", "--rm", "--label", LABEL, tag, "cat", "/hello.txt")
    assert Outcome.of(ran) == Outcome(0, b"hello from the build context\n", b"")
    expect_rows(watch, mark, has("POST", "/build", 200))
    docker_cli(docker_host, "image", "rm", "-f", tag)


def test_stats_no_stream(docker_host, rec, box):
    # Two samples of CPU/memory never match: compare the exit code and the table's shape.
    direct, via = both(docker_host, rec.host, "stats", "--no-stream", box)
    assert direct.rc == 0 and len(direct.stdout.splitlines()) == 2
    assert via.rc == direct.rc and via.stderr == direct.stderr
    assert len(via.stdout.splitlines()) == len(direct.stdout.splitlines())
    assert via.stdout.splitlines()[0] == direct.stdout.splitlines()[0]
    assert box.encode() in via.stdout


def test_inspect_missing_object(docker_host, rec, watch):
    missing = f"{PREFIX}-missing"
    mark = watch.mark()
    direct, via = both(docker_host, rec.host, "inspect", missing)
    assert direct.rc == 1 and missing.encode() in direct.stderr
    assert_same(direct, via)
    rows = expect_rows(watch, mark, *inspect_missing_checks())
    # Every status stored is the one dockerd answers to the same request asked directly.
    for r in rows:
        if r["method"] in ("GET", "HEAD"):
            target = r["path"] + (f"?{r['query']}" if r["query"] else "")
            assert raw_status(docker_host, r["method"], target) == r["status_code"], target
