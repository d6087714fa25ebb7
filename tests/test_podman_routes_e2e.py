"""Podman's routes through the recorder, against the real Podman 4.3.1 (scripts/podman-up.sh).

Read-only requests only (nothing is created on the shared Podman). Each answer is compared with
what Podman's table says about its registration: libpod routes only under /v{version}, the
compat routes tagged with Docker's templates, 405 for a wrong method, 503 from noSwarm.
"""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3

import pytest
from conftest import IMPLEMENTATIONS, need, start_recorder

from dockdrift.cli import main

PODMAN_TCP = IMPLEMENTATIONS["podman"].host  # conftest: one registry of servers
MISSING = "dd-tables-missing"
# (method, path) -> (status, route, route_source prefix); route None: no table knows it
EXPECTED = {
    ("GET", "/v4.3.1/libpod/info"): (200, "/libpod/info", "podman-v4.3.1"),
    ("GET", "/v1.41/libpod/info"): (200, "/libpod/info", "podman-v4.3.1"),
    ("GET", "/libpod/info"): (404, None, None),  # libpod: only with the version prefix
    ("GET", "/libpod/_ping"): (200, "/libpod/_ping", "podman-v4.3.1"),
    ("GET", "/v4.3.1/libpod/containers/json"): (200, "/libpod/containers/json", "podman-v4.3.1"),
    ("GET", f"/v4.3.1/libpod/containers/{MISSING}/json"):
        (404, "/libpod/containers/{name}/json", "podman-v4.3.1"),
    ("GET", "/v4.3.1/libpod/containers/a/b/json"): (404, None, None),  # {name}: one segment
    ("GET", "/v1.41/containers/json"): (200, "/containers/json", "seed-v1.22"),
    ("GET", f"/v1.41/containers/{MISSING}/json"): (404, "/containers/{name:.*}/json", "seed-"),
    ("POST", "/v1.41/containers/json"): (405, None, None),  # wrong method: 405, not 404
    ("POST", f"/v1.41/swarm/{MISSING}"): (503, None, None),  # noSwarm catch-all: not tagged
    ("GET", "/v4.0.0-dev/version"): (200, "/version", "podman-v4.3.1"),  # Podman's pattern
}


def _answers(host: str) -> bool:
    hostname, port = host.removeprefix("tcp://").rsplit(":", 1)
    try:
        with socket.create_connection((hostname, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def podman_capture(tmp_path_factory):
    need(_answers(PODMAN_TCP), f"no Podman answers on {PODMAN_TCP} (scripts/podman-up.sh)")
    db = tmp_path_factory.mktemp("podman") / "podman.sqlite"
    # The target is forced: detection is tested elsewhere, and its /version probe could
    # answer after the first request here.
    rec = start_recorder(db, PODMAN_TCP, "--set", "dockdrift_target=podman")
    try:
        statuses = {}
        for method, path in EXPECTED:
            conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=30)
            conn.request(method, path)
            resp = conn.getresponse()
            resp.read()
            statuses[(method, path)] = resp.status
            conn.close()
    finally:
        assert rec.stop() == 0, rec.log.read_text(errors="replace")[-2000:]
    return db, statuses


def test_podman_answers_and_tags_as_its_table_says(podman_capture):
    db, statuses = podman_capture
    with sqlite3.connect(db) as con:
        rows = {(m, p): (s, r, src, t) for m, p, s, r, src, t in con.execute(
            "select method, path, status_code, route, route_source, target from exchanges")}
    assert set(rows) == set(EXPECTED)
    for key, (status, route, source) in EXPECTED.items():
        got_status, got_route, got_source, target = rows[key]
        assert statuses[key] == got_status == status, key
        assert got_route == route, key
        assert (got_source or "").startswith(source or ""), key
        assert target == "podman", key


def test_report_against_own_uses_podmans_table(podman_capture, capsys):
    db, _ = podman_capture
    code = main(["report", "--db", str(db), "--against", "own", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    routes = {(r["method"], r["route"]): r for r in data["routes"]}
    assert data["summary"]["targets"]["podman"]["tables"] == ["podman-v4.3.1"]
    assert routes[("GET", "/libpod/info")]["documented"] == [200, 500]
    assert routes[("GET", "/containers/{name:.*}/json")]["undocumented"] == []
    assert code == 0  # every answer on a tagged route is one Podman documents
    unknown = {(u["method"], u["status_code"]) for u in data["summary"]["unknown_routes"]}
    assert {("POST", 405), ("POST", 503), ("GET", 404)} <= unknown
