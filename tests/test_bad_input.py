"""Bad input must never crash the recorder or corrupt what it stores.

The stored `path` and `query` are exactly the bytes the client sent, decoded as UTF-8; the
one documented escaping is that bytes which are not valid UTF-8 are stored as `\\xNN`
backslash escapes (Python's "backslashreplace"), so the text is always storable and readable.
Percent-escapes, `..` and empty segments are kept as sent (routing decodes a copy). The
values of secret-looking query parameters are replaced by REDACTED (see db/record.py).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import MITMDUMP, ROOT, docker_cli, free_port, start_recorder
from fault_helpers import get, query, raw_exchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockdrift.db.engine import make_engine
from dockdrift.db.record import _SECRET_QUERY, build_row
from dockdrift.db.routes import default_router, match
from dockdrift.db.writer import BatchWriter

METHODS = st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "X\x00"])
TEMPLATES = set(default_router().templates())
SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "%2F", "%2f", "%", "%zz", "%00", "v1.41", "json", "{id}",
                     "containers", "images", "a:b", "é", "%C3%A9", "%FF"]),
    st.text(max_size=12),
)
PATHS = st.lists(SEGMENT, max_size=12).map(lambda segs: "/" + "/".join(segs))
RAW = st.one_of(st.binary(max_size=300), PATHS.map(lambda p: p.encode("utf-8", "surrogatepass")),
                st.tuples(PATHS, st.text(max_size=80)).map(
                    lambda pq: f"{pq[0]}?{pq[1]}".encode("utf-8", "surrogatepass")))


def unescape(stored: str) -> bytes:
    """Undo the documented escaping: `\\xNN` -> the byte (valid for inputs with no backslash)."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  stored.encode("utf-8"))


def _row(method: str, raw: bytes) -> dict:
    return build_row(method=method, raw_target=raw, started=time.time(), ended=None,
                     status_code=404, body_head=raw[:200])


@given(METHODS, st.one_of(PATHS, st.text(max_size=200)))
def test_match_never_raises(method: str, path: str) -> None:
    m = match(method, path)
    if m.route is not None:
        assert (method, m.route) in TEMPLATES
    if re.match(r"/v([0-9][0-9.]*)/", path):
        assert m.api_version == path[2:].split("/", 1)[0]


@given(st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s))
def test_percent_encoded_names_route_like_the_engine(name: str) -> None:
    # the Engine matches the decoded path: a%2Fb is the name a/b, still one container
    m = match("GET", f"/v1.41/containers/{quote(name, safe='')}/json")
    assert m.api_version == "1.41" and m.route == "/containers/{name:.*}/json"


@given(METHODS, RAW)
def test_build_row_stores_what_was_sent(method: str, raw: bytes) -> None:
    row = _row(method, raw)
    path, sep, q = raw.partition(b"?")
    row["path"].encode("utf-8")  # always storable text: no lone surrogates
    if b"\\" not in path:
        assert unescape(row["path"]) == path
    if sep and not _SECRET_QUERY.search(row["query"] or "") and b"\\" not in q:
        assert unescape(row["query"]) == q
    assert (row["query"] is None) == (not sep)


def test_very_long_targets() -> None:
    long_path = b"/v1.41/containers/" + b"a/" * 50_000 + b"json"
    long_query = b"/v1.41/containers/json?" + b"&".join(b"k%d=v" % i for i in range(20_000))
    for raw in (long_path, long_query, b"/" + b"%2F" * 30_000, b"/.." * 30_000, b"/" * 60_000):
        row = _row("GET", raw)
        assert unescape(row["path"]) == raw.partition(b"?")[0]
    assert _row("GET", long_path)["route"] == "/containers/{name:.*}/json"


def test_secret_query_values_are_redacted() -> None:
    row = _row("POST", b"/v1.41/build?t=x&buildargs=%7B%22PASSWORD%22%3A%22hunter2%22%7D"
                       b"&registryauth=abc")
    assert "hunter2" not in row["query"] and "abc" not in row["query"]
    assert row["query"] == "t=x&buildargs=REDACTED&registryauth=REDACTED"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(METHODS, RAW), min_size=1, max_size=30))
def test_rows_round_trip_through_sqlite(exchanges: list[tuple[str, bytes]]) -> None:
    rows = [_row(m, raw) for m, raw in exchanges]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "rt.sqlite")
        writer = BatchWriter(engine, batch_size=7)
        for row in rows:
            assert writer.submit(row)
        writer.close()
        assert writer.written == len(rows) and writer.dropped == 0
        got = query(Path(tmp) / "rt.sqlite", "SELECT method, path, query, route, api_version"
                    " FROM exchanges ORDER BY id")
        engine.dispose()
    assert got == [(r["method"], r["path"], r["query"], r["route"], r["api_version"])
                   for r in rows]


# -- malformed HTTP from a raw socket, against the real recorder ---------------------------
MALFORMED = {
    "bad request line": b"THIS IS NOT HTTP\r\n\r\n",
    "garbage bytes": bytes(range(256)) * 8 + b"\r\n\r\n",
    "header without colon": b"GET /_ping HTTP/1.1\r\nHost: d\r\nNoColonHere\r\n\r\n",
    "bad content-length": b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\n"
                          b"Content-Length: abc\r\n\r\n{}",
    "huge header": b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
    "truncated body": b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 500\r\n\r\n{\"Image\": \"busy",
    "upgrade never upgraded": b"POST /v1.41/containers/dd5-missing/attach?stream=1&stdout=1"
                              b" HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp"
                              b"\r\nContent-Length: 0\r\n\r\n",
    "upgrade on ping": b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
                       b"Upgrade: tcp\r\n\r\n",
    "non-utf8 path": b"GET /v1.41/containers/\xff\xfe%2F../json HTTP/1.1\r\nHost: d\r\n"
                     b"Connection: close\r\n\r\n",
}


@pytest.mark.docker
def test_malformed_http_is_answered_or_closed_cleanly(recorder) -> None:
    answers = {}
    for name, data in MALFORMED.items():
        started = time.monotonic()
        out = raw_exchange(recorder.port, data, timeout=15, shut_write=name == "truncated body")
        hung = not out and time.monotonic() - started >= 15
        assert not hung, f"{name}: the proxy neither answered nor closed"
        assert out == b"" or out.startswith(b"HTTP/1.1 "), (name, out[:80])
        answers[name] = out.split(b"\r\n", 1)[0].decode()
        assert get(recorder.port, "/_ping") == (200, b"OK"), f"not serving after {name}"
    assert recorder.stop() == 0
    print(f"\nmalformed HTTP answers: {answers}")
    assert answers["upgrade never upgraded"].startswith("HTTP/1.1 404")
    assert answers["upgrade on ping"].startswith("HTTP/1.1 200")
    stored = [p for (p,) in query(recorder.db, "SELECT path FROM exchanges WHERE path LIKE"
                                               " '/v1.41/containers/%/json'")]
    assert stored == ["/v1.41/containers/\\xff\\xfe%2F../json"]
    pings = query(recorder.db, "SELECT COUNT(*) FROM exchanges WHERE path = '/_ping'"
                               " AND status_code = 200")[0][0]
    assert pings >= len(MALFORMED)


# -- bad configuration and files: one clear line, non-zero exit, no traceback -------------
def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")


def _newer(path: Path) -> None:
    make_engine(path).dispose()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE dockdrift_meta SET value = '99' WHERE key = 'schema_version'")


def _start_bad(tmp: Path, setup, *args: str, ro: bool = False) -> subprocess.Popen:
    db = tmp / "store.sqlite"
    if setup:
        setup(db)
    if not any(a.startswith("dockdrift_db=") for a in args):
        args = ("--set", f"dockdrift_db={db}", *args)
    cmd = [MITMDUMP, "-q", "-s", str(ROOT / "addons" / "docker_recorder.py"), "--mode",
           "reverse:http://127.0.0.1:2375", "--listen-host", "127.0.0.1", "-p",
           str(free_port()), *args]
    if ro:  # root ignores file modes: make the directory read-only in a private mount namespace
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount -o bind,ro "$0" "$0" && exec "$@"', str(tmp), *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)


BAD_CONFIG = {
    "unknown target": (None, ["--set", "dockdrift_target=bogus"], "dockdrift_target must be one of"),
    "queue of 0": (None, ["--set", "dockdrift_max_queue=0"], "must be >= 1"),
    "corrupt file": (lambda p: p.write_bytes(bytes(range(256)) * 64), [],
                     "is not a readable SQLite database"),
    "foreign file": (_foreign, [], "is not a dockdrift database (tables: customers)"),
    "newer schema": (_newer, [], "was written by a newer dockdrift"),
    "bad URL": (None, ["--set", "dockdrift_db=nosuch://x"], "cannot open database 'nosuch://x'"),
    "read-only dir": (None, [], "cannot create database"),
}


def test_bad_configuration_exits_with_one_clear_line(tmp_path: Path) -> None:
    procs = {}
    for name, (setup, args, _) in BAD_CONFIG.items():
        tmp = tmp_path / name.replace(" ", "-")
        tmp.mkdir()
        procs[name] = _start_bad(tmp, setup, *args, ro=name == "read-only dir")
    for name, proc in procs.items():
        out = proc.communicate(timeout=300)[0].decode(errors="replace")
        want = BAD_CONFIG[name][2]
        assert proc.returncode != 0, f"{name}: exit 0\n{out}"
        assert "Traceback" not in out, f"{name}:\n{out}"
        ours = [line for line in out.splitlines() if "dockdrift" in line]
        assert len(ours) == 1 and want in ours[0], f"{name}:\n{out}"


def _schema0(path: Path) -> None:
    """A capture from before dockdrift_meta and the newer exchanges columns existed."""
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE exchanges (id INTEGER PRIMARY KEY, started_at DATETIME, "
                  "method VARCHAR(16), path TEXT, api_version VARCHAR(16), route VARCHAR(128), "
                  "handler VARCHAR(128), status_code INTEGER, error TEXT, target VARCHAR(16))")
        c.execute("INSERT INTO exchanges (started_at, method, path, status_code, target) "
                  "VALUES ('2024-01-01 00:00:00', 'GET', '/v1.24/_ping', 200, 'engine')")


@pytest.mark.docker
def test_older_schema_is_migrated_in_place(docker_host: str, tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    _schema0(db)
    rec = start_recorder(db, docker_host)
    try:
        assert docker_cli(rec.host, "version").returncode == 0
    finally:
        assert rec.stop() == 0
    assert query(db, "SELECT value FROM dockdrift_meta WHERE key = 'schema_version'") == [("3",)]
    old, new = query(db, "SELECT path, request_bytes FROM exchanges WHERE path LIKE '%_ping'"
                         " ORDER BY id LIMIT 1")[0], query(db, "SELECT COUNT(*) FROM exchanges"
                                                             " WHERE server LIKE 'Docker/%'")
    assert old == ("/v1.24/_ping", None) and new[0][0] >= 2
