"""Shared pieces of the end-to-end tests: one call made direct and through the recorder.

A recorder is started once per test module (mitmdump takes seconds to start on 2 cores);
each test reads only the rows recorded after its own `RowWatch.mark()`, so tests stay
independent of their order and of how pytest-xdist spreads them.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import select
import socket
import sqlite3
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from conftest import DOCKER, IMAGE, VENV_BIN, Recorder, docker_cli, start_recorder

# Names unique to this process, so parallel workers and other engineers never collide.
PREFIX = f"dockdrift-tt-{os.getpid()}"
LABEL = f"dockdrift-tt={os.getpid()}"

# Image and container IDs differ between two builds or two runs: they are the only thing
# normalised away (as `<id>`), nothing else. Podman's build prints its image IDs with 11
# hex digits (`--> 0a1cab45d10`), Docker with 12.
_HEX_ID = re.compile(rb"\b(?:sha256:)?[0-9a-f]{64}\b|\b[0-9a-f]{11,12}\b")


@dataclass(frozen=True)
class Outcome:
    """What a client sees: exit code, stdout, stderr."""

    rc: int
    stdout: bytes
    stderr: bytes

    @classmethod
    def of(cls, proc: subprocess.CompletedProcess[bytes]) -> Outcome:
        return cls(proc.returncode, proc.stdout, proc.stderr)

    def normalised(self) -> Outcome:
        return Outcome(self.rc, normalise_ids(self.stdout), normalise_ids(self.stderr))


def normalise_ids(data: bytes) -> bytes:
    return _HEX_ID.sub(b"<id>", data)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def both(direct_host: str, via_host: str, *args: str, input: bytes | None = None,
         env: dict[str, str] | None = None) -> tuple[Outcome, Outcome]:
    """Run the same docker CLI call direct, then through the recorder."""
    direct = Outcome.of(docker_cli(direct_host, *args, input=input, env=env))
    via = Outcome.of(docker_cli(via_host, *args, input=input, env=env))
    return direct, via


def assert_same(direct: Outcome, via: Outcome) -> None:
    """Identical exit code, stdout and stderr (compared as text for a readable diff)."""
    assert (via.rc, via.stdout.decode(errors="replace"), via.stderr.decode(errors="replace")) \
        == (direct.rc, direct.stdout.decode(errors="replace"),
            direct.stderr.decode(errors="replace"))


def popen_docker(host: str, *args: str, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_CLI_HINTS": "false"}
    env.pop("DOCKER_CONTEXT", None)
    return subprocess.Popen([DOCKER, *args], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def wait_for_event(host: str, container: str, action: str, since: float,
                   timeout: float = 20.0) -> None:
    """Block until dockerd logged `action` for `container` (e.g. a client attached)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = docker_cli(host, "events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
                       "--filter", f"container={container}", "--filter", f"event={action}",
                       "--format", "{{.Action}}", timeout=20)
        if r.stdout.strip():
            return
        time.sleep(0.1)
    raise TimeoutError(f"dockerd logged no {action} event for {container} in {timeout}s")


def raw_status(host: str, method: str, path: str) -> int:
    """The status dockerd itself answers, asked over a plain HTTP connection."""
    u = urlparse(host.replace("tcp://", "http://"))
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=20)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class RowWatch:
    """Reads the rows a running recorder committed since a mark (polls; no sleeps in tests)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            con.close()

    def mark(self) -> int:
        if not self.db.exists():
            return 0
        rows = self._query("select coalesce(max(id), 0) as m from exchanges")
        return rows[0]["m"] if rows else 0

    def since(self, mark: int, until: Callable[[list[sqlite3.Row]], bool],
              timeout: float = 20.0) -> list[sqlite3.Row]:
        """Rows with id > mark, once `until(rows)` holds (the writer commits asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self._query("select * from exchanges where id > ? order by id", (mark,))
            if until(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)


def has(method: str, route: str, status: int, hijacked: bool = False,
        times: int | None = None) -> Callable:
    """Predicate: a row of that route answered with that status (and hijack flag);
    with `times`, exactly that many such rows."""
    def check(rows: list[sqlite3.Row]) -> bool:
        n = sum(1 for r in rows if r["method"] == method and r["route"] == route
                and r["status_code"] == status and bool(r["hijacked"]) == hijacked)
        return n == times if times is not None else n > 0
    check.__name__ = (f"{method} {route} {status}{' hijacked' if hijacked else ''}"
                      f"{f' x{times}' if times is not None else ''}")
    return check


# What `docker inspect NAME` asks, in order, for a name that exists nowhere (no swarm): each
# answers 404. Waiting for all of them, not the first, before checking every stored row.
INSPECT_PROBES = ("/containers/{name:.*}/json", "/images/{name:.*}/json",
                  "/networks/{networkid:.*}", "/volumes/{volumename:.*}",
                  "/plugins/{name:.*}/json")


def inspect_missing_checks() -> list[Callable]:
    return [has("GET", route, 404) for route in INSPECT_PROBES]


def expect_rows(watch: RowWatch, mark: int, *checks: Callable) -> list[sqlite3.Row]:
    """Assert the recorder stored every expected exchange, each routed and with a handler."""
    rows = watch.since(mark, lambda rs: all(c(rs) for c in checks))
    seen = [(r["method"], r["route"], r["status_code"], r["hijacked"]) for r in rows]
    missing = [c.__name__ for c in checks if not c(rows)]
    assert not missing, f"not recorded: {missing}; rows: {seen}"
    unrouted = [(r["method"], r["path"]) for r in rows if not r["route"] or not r["handler"]]
    assert not unrouted, f"rows without route/handler: {unrouted}"
    return rows


def frames(data: bytes) -> tuple[bytes, bytes]:
    """Docker's multiplexed stream (8-byte headers) -> (stdout, stderr)."""
    out, err, i = bytearray(), bytearray(), 0
    while i + 8 <= len(data):
        kind, size = data[i], struct.unpack(">I", data[i + 4:i + 8])[0]
        (err if kind == 2 else out).extend(data[i + 8:i + 8 + size])
        i += 8 + size
    return bytes(out), bytes(err)


def talk(sock, data: bytes) -> tuple[bytes, bytes]:
    """Send stdin on a docker-py hijacked socket, half-close it (the case plain mitmproxy
    breaks), read until EOF; returns (stdout, stderr)."""
    raw: socket.socket = sock._sock
    raw.settimeout(120)
    raw.sendall(data)
    raw.shutdown(socket.SHUT_WR)
    chunks = []
    while chunk := raw.recv(65536):
        chunks.append(chunk)
    sock.close()
    return frames(b"".join(chunks))


def start_capture(db: Path, upstream: str, wait: float = 120.0) -> Recorder:
    """`dockdrift capture` (the other recording path: mitmproxy in-process) in front of
    `upstream` on a free port, as a user starts it; its printed export line names the port."""
    log = db.with_suffix(".capture.log")
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(VENV_BIN / "dockdrift"), "capture", "--upstream", upstream,
                                 "--listen", "127.0.0.1:0", "--db", str(db)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], wait)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("export DOCKER_HOST=tcp://"):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"no export line ({line!r}): {log.read_text(errors='replace')[-2000:]}")
    return Recorder(proc, int(line.strip().rsplit(":", 1)[1]), db, log)


RECORDERS: dict[str, Callable[[Path, str], Recorder]] = {
    "mitmdump": start_recorder,  # mitmdump -s addons/docker_recorder.py
    "capture": start_capture,    # dockdrift capture
}


def module_recorder(docker_host: str, tmp: Path, path: str = "mitmdump") -> Iterator[Recorder]:
    """One recorder (`path`: one of RECORDERS) for a whole test module; must exit 0 on
    SIGTERM at the end."""
    rec = RECORDERS[path](tmp / "transparency.sqlite", docker_host)
    try:
        yield rec
    finally:
        rc = rec.stop()
        assert rc == 0, rec.log.read_text(errors="replace")[-2000:]


def cleanup(docker_host: str) -> None:
    """Remove every container and image this process created."""
    ids = docker_cli(docker_host, "ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
    if ids:
        docker_cli(docker_host, "rm", "-f", *(i.decode() for i in ids))
    docker_cli(docker_host, "image", "rm", "-f", f"{PREFIX}-build:latest")


__all__ = ["IMAGE", "INSPECT_PROBES", "LABEL", "PREFIX", "RECORDERS", "Outcome", "RowWatch",
           "assert_same",
           "both", "cleanup", "expect_rows", "frames", "has", "inspect_missing_checks", "md5",
           "module_recorder", "normalise_ids", "popen_docker", "raw_status", "start_capture",
           "talk", "wait_for_event"]
