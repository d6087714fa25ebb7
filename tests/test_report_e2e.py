"""The report on a capture recorded from the real dockerd (conftest WORKLOAD, Engine 20.10,
API 1.41, docker CLI 28.2) agrees with what the daemon really answered.

The daemon's answers that matter here, and why the docs disagree:
- `docker inspect <missing>` asks containers, images, networks, volumes and plugins: 404 each;
  plugins did not exist at API v1.22, so the source document does not list that route.
- `docker start` on a running container: 304 (documented in the Docker column).
- `docker run` waits with POST /containers/{id}/wait: 200, the source document says 204.
- `docker exec` starts with POST /exec/{id}/start, hijacked: 101, no table documents it.
- the CLI's first request is HEAD /_ping (no /v prefix): only the OpenAPI tables list it,
  and only from v1.40 on (not in the v1.25 table).
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from dockdrift.analysis.compare import route_shape
from dockdrift.db import tables
from dockdrift.cli import main

pytestmark = pytest.mark.docker


def report(capsys, db, *args) -> tuple[int, dict]:
    code = main(["report", "--db", str(db), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def undocumented(data: dict) -> set[tuple[str, str, int]]:
    return {(r["method"], r["route"], c) for r in data["routes"] for c in r["undocumented"]}


def by_route(data: dict) -> dict[tuple[str, str], dict]:
    return {(r["method"], r["route"]): r for r in data["routes"]}


def daemon_answers(db) -> dict[tuple[str, str], set[int]]:
    """What the daemon answered, read straight from the capture (no analysis code)."""
    with sqlite3.connect(db) as con:
        rows = con.execute("select method, route, status_code from exchanges "
                           "where status_code is not null and target = 'engine'").fetchall()
    out: dict[tuple[str, str], set[int]] = {}
    for method, route, code in rows:
        out.setdefault((method, route), set()).add(code)
    return out


def seed_docker_column() -> dict[tuple[str, str], set[int]]:
    return {(r.method, route_shape(r.route)): set(r.engine_codes or ())
            for r in tables.read_seed() if not r.engine_absent}


def test_seed_report_matches_the_daemon(capsys, recorded_db):
    code, data = report(capsys, recorded_db)
    assert code == 1
    routes = by_route(data)
    inspect = routes[("GET", "/containers/{name:.*}/json")]
    assert inspect["observed"]["404"] >= 1 and 404 in inspect["documented"]
    assert 404 not in inspect["undocumented"]
    start = routes[("POST", "/containers/{name:.*}/start")]
    assert set(start["observed"]) == {"204", "304"} and start["undocumented"] == []
    assert routes[("POST", "/containers/{name:.*}/stop")]["observed"].keys() == {"204", "304"}
    assert routes[("DELETE", "/volumes/{name:.*}")]["observed"] == {"204": 1}
    assert routes[("HEAD", "/_ping")]["documented"] == []
    assert undocumented(data) == {
        ("POST", "/containers/{name:.*}/wait", 200),  # seed: 204 404 500
        ("POST", "/exec/{execid:.*}/start", 101),  # seed: 200 404 409
        ("HEAD", "/_ping", 200),  # seed lists GET /_ping only
        ("GET", "/plugins/{name:.*}/json", 404),  # no plugins API at v1.22
    }
    s = data["summary"]
    assert s["proxy_failed"] == 0 and s["unknown_routes"] == []
    assert s["undocumented_codes"] == 4


def test_seed_findings_equal_an_independent_computation(capsys, recorded_db):
    """Undocumented = what the daemon answered minus the seed's Docker column, per route."""
    _, data = report(capsys, recorded_db)
    docs = seed_docker_column()
    expected = {(m, r, c) for (m, r), codes in daemon_answers(recorded_db).items()
                for c in codes - docs.get((m, route_shape(r)), set())}
    assert undocumented(data) == expected


def test_spec_report_tags_ping_and_keeps_the_hijack_drift(capsys, recorded_db):
    code, data = report(capsys, recorded_db, "--against", "spec")
    assert code == 1
    ping = by_route(data)[("HEAD", "/_ping")]
    assert ping["undocumented"] == [] and 200 in ping["documented"]
    assert by_route(data)[("POST", "/containers/{name:.*}/wait")]["undocumented"] == []
    assert undocumented(data) == {("POST", "/exec/{execid:.*}/start", 101)}
    assert data["summary"]["targets"]["engine"]["tables"] == ["spec-v1.41", "spec-v1.55"]
    _, old = report(capsys, recorded_db, "--against", "spec:1.25")
    assert undocumented(old) == {("POST", "/exec/{execid:.*}/start", 101), ("HEAD", "/_ping", 200)}
