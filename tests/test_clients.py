"""Client identity, the process behind a connection, `clients` and `upgrade` on literal stores.

The literal store (`store`): what the real clients sent here (User-Agents captured from the
docker CLI 28.2, docker-py 7.2, compose 2.40, buildx 0.29, curl 7.88), recorded in front of
`engine 20.10.24`:
- docker-cli negotiates (HEAD /_ping, then 1.41 = 20.10's maximum): at-risk for 29.0, not breaks.
- docker-py pinned to 1.35: breaks on any floor above 1.35.
- a raw client pinned to /v1.24 (no User-Agent): breaks on 29.0 and at floor 1.40.
- curl on /v1.41/containers/json: breaks on 29.0 (floor 1.44), ok at floor 1.40.
- compose (version-less ping, then 1.51): ok.
- an old row (client_name NULL, before client identity was recorded): named from its agent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from dockdrift.allowlist import core
from dockdrift.cli import main
from dockdrift.db import allowlist
from dockdrift.db.clients import client_fields, identify, rules
from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange
from dockdrift.db.record import build_row
from dockdrift.db.upgrade_targets import documented_routes, find, for_implementation, known
from dockdrift.peers import BRIDGED, from_unix_socket, lookup

CAPTURED = {  # the real agents seen here (see the final report of issue 21)
    "Docker-Client/28.2.2 (linux)": ("docker-cli", "28.2.2"),
    "docker-sdk-python/7.2.0": ("docker-py", "7.2.0"),
    "docker-sdk-python/4.4.4": ("docker-py", "4.4.4"),
    "compose/2.40.3-3": ("docker-compose", "2.40.3-3"),
    "Go-http-client/1.1": ("go-http-client", None),
    "Docker-Client/unknown-version (linux)": ("docker-cli-library", None),
    "curl/7.88.1": ("curl", "7.88.1"),
    "Python-urllib/3.11": ("python-urllib", "3.11"),
}


@pytest.mark.parametrize("agent,expected", sorted(CAPTURED.items()))
def test_captured_agents_name_their_client(agent, expected):
    assert identify(agent) == expected


def test_unknown_agents_fall_back_to_their_product_token_or_the_raw_agent():
    assert identify("Traefik/2.10.4 (linux)") == ("Traefik", "2.10.4")
    assert identify("some tool") == ("some tool", None)
    assert identify(None) == identify("  ") == (None, None)
    assert client_fields("x" * 300)["client_name"] == "x" * 64


def test_every_rule_and_target_says_where_it_comes_from():
    assert all(r.source for r in rules()) and all(t.source for t in known())
    names = {t.name for t in known()}
    assert {"engine 25.0", "engine 26.0", "engine 28.3", "engine 29.0", "engine 29.3",
            "podman 4.3", "podman 5.8"} <= names


def test_targets_floor_maximum_and_enforcement():
    e29, e293 = find("engine 29.0"), find("Engine  29.3")
    assert (e29.min_api, e29.max_api, e293.min_api, e293.max_api) == (
        "1.44", "1.52", "1.40", "1.54")
    assert e29.refuses("1.41") and e29.refuses("1.53") and not e29.refuses("1.44")
    assert (find("engine 28").max_api, find("engine 28.5").max_api) == ("1.51", "1.51")
    assert find("engine 99") is None and find("engine 19.03") is None
    assert not find("podman 5").refuses("1.0")  # Podman checks no version (measured)
    assert documented_routes(find("podman 5"))[0] == "podman 5.8.3"
    assert documented_routes(find("engine 29.0"))[0] == "spec 1.52"
    rec = for_implementation("engine", "28.5.2+dfsg4", "1.44")
    assert (rec.name, rec.max_api, rec.min_api, rec.enforced) == (
        "engine 28.5.2+dfsg4 (min API 1.44)", "1.51", "1.44", True)


T0 = datetime(2026, 12, 1, 12, 0, 0)
# (user agent, peer process, method, raw target, status, implementation version)
ROWS = [
    ("Docker-Client/28.2.2 (linux)", "docker", "HEAD", b"/_ping", 200),
    ("Docker-Client/28.2.2 (linux)", "docker", "GET", b"/v1.41/containers/json", 200),
    ("docker-sdk-python/7.2.0", "python", "GET", b"/v1.35/containers/json?all=1", 200),
    ("docker-sdk-python/7.2.0", "python", "GET", b"/v1.35/images/json", 200),
    (None, "python", "GET", b"/v1.24/version", 200),
    ("curl/7.88.1", "curl", "GET", b"/v1.41/containers/json", 200),
    ("compose/2.40.3-3", "docker-compose", "HEAD", b"/_ping", 200),
    ("compose/2.40.3-3", "docker-compose", "GET", b"/v1.51/containers/json", 200),
]


@pytest.fixture
def store(tmp_path: Path) -> str:
    db = str(tmp_path / "clients.sqlite")
    engine = make_engine(db)
    rows = []
    for i, (ua, proc, method, target, status) in enumerate(ROWS):
        row = build_row(method=method, raw_target=target, started=(T0 + timedelta(
            seconds=i) - datetime(1970, 1, 1)).total_seconds(), ended=None, status_code=status,
            user_agent=ua, target="engine", target_version="20.10.24+dfsg1")
        row.update(client_fields(ua), peer_pid=1000 + i, peer_uid=1000, peer_process=proc,
                   peer_exe=f"/usr/bin/{proc}")
        rows.append(row)
    old = build_row(method="GET", raw_target=b"/v1.41/info", started=rows[0]["started_at"]
                    .timestamp() - 3600, ended=None, status_code=200,
                    user_agent="Docker-Client/20.10.24 (linux)", target="engine")
    with engine.begin() as conn:
        conn.execute(insert(Exchange), rows)
        conn.execute(insert(Exchange), [old])
    engine.dispose()
    return db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_clients_json_per_client(store, capsys):
    code, out, _ = run(capsys, "clients", "--db", store, "--format", "json")
    assert code == 0
    got = {(c["client"], c["version"]): c for c in json.loads(out)["clients"]}
    cli = got[("docker-cli", "28.2.2")]
    assert cli["api_versions"] == {"": 1, "1.41": 1} and cli["status_codes"] == {"200": 2}
    assert (cli["process"], cli["exchanges"], cli["routes"], cli["uids"]) == ("docker", 2, 2,
                                                                              [1000])
    assert cli["first_seen"] == "2026-12-01 12:00:00" and cli["pids"] == [1000, 1001]
    assert got[(None, None)]["api_versions"] == {"1.24": 1}  # no User-Agent: still a client
    old = got[("docker-cli", "20.10.24")]  # recorded before client identity was
    assert old["process"] is None and old["exchanges"] == 1


def test_clients_text_and_filters(store, capsys):
    code, out, _ = run(capsys, "clients", "--db", store, "--client", "curl")
    assert code == 0 and "curl 7.88.1" in out and "docker-cli" not in out
    assert "curl (pid 1005, uid 1000)" in out
    code, out, err = run(capsys, "clients", "--db", store, "--client", "nobody")
    assert code == 3 and "not enough data" in err


def test_upgrade_engine29(store, capsys):
    code, out, _ = run(capsys, "upgrade", "--db", store, "--to", "engine 29.0", "--format",
                       "json")
    doc = json.loads(out)
    assert code == 1 and (doc["to"], doc["min_api_version"], doc["max_api_version"]) == (
        "engine 29.0", "1.44", "1.52")
    verdicts = {(c["client"], c["version"]): c for c in doc["clients"]}
    assert verdicts[("docker-py", "7.2.0")]["verdict"] == "breaks"
    assert verdicts[("docker-py", "7.2.0")]["examples"][0] == {
        "method": "GET", "path": "/v1.35/containers/json", "api_version": "1.35"}
    assert verdicts[(None, None)]["verdict"] == "breaks"
    assert verdicts[("curl", "7.88.1")]["refused_api_versions"] == ["1.41"]
    # negotiated down to 20.10's maximum: not a certain break
    assert verdicts[("docker-cli", "28.2.2")]["verdict"] == "at-risk"
    assert verdicts[("docker-compose", "2.40.3-3")]["verdict"] == "ok"
    for c in doc["clients"]:
        assert set(c) >= {"client", "version", "user_agent", "process", "verdict", "reasons",
                          "examples"}


def test_upgrade_min_api_and_exit_codes(store, capsys):
    code, out, _ = run(capsys, "upgrade", "--db", store, "--min-api", "1.40", "--format",
                       "json")
    broken = {c["client"] for c in json.loads(out)["clients"] if c["verdict"] == "breaks"}
    assert code == 1 and broken == {"docker-py", None}
    code, out, _ = run(capsys, "upgrade", "--db", store, "--min-api", "1.24")
    assert code == 0 and "0 of 6 clients break" in out
    code, _, err = run(capsys, "upgrade", "--db", store, "--to", "engine 99")
    assert code == 2 and err.count("\n") == 1 and "engine 20.10" in err
    code, _, err = run(capsys, "upgrade", "--db", store)
    assert code == 2 and "--to" in err
    code, _, err = run(capsys, "upgrade", "--db", store, "--min-api", "one.four")
    assert code == 2
    code, _, err = run(capsys, "upgrade", "--db", store, "--to", "engine 29.0", "--client", "x")
    assert code == 3 and "not enough data" in err
    code, out, _ = run(capsys, "upgrade", "--db", store, "--to", "podman 5")
    assert code == 0  # Podman serves every version


def test_report_has_a_clients_section_and_by_client(store, capsys):
    code, out, _ = run(capsys, "report", "--db", store, "--format", "json")
    clients = json.loads(out)["summary"]["clients"]
    assert {c["client"] for c in clients} >= {"docker-cli", "docker-py", "curl"}
    code, out, _ = run(capsys, "report", "--db", store, "--by", "client", "--format", "json")
    doc = json.loads(out)
    assert doc["by"] == "client" and [s["client"] for s in doc["sections"]] == [
        "curl", "docker-cli", "docker-compose", "docker-py"]
    assert doc["unnamed_client_rows"] is True  # the old row and the agent-less one
    code, out, _ = run(capsys, "report", "--db", store, "--client", "docker-py", "--format",
                       "json")
    assert json.loads(out)["summary"]["exchanges"] == 2


def test_allowlist_rules_per_client(store, tmp_path, capsys):
    out = tmp_path / "al.json"
    code, _, _ = run(capsys, "allowlist", "--db", store, "--per-client", "--format", "json",
                     "-o", str(out))
    policy = allowlist.load(out)
    assert policy.by_client["curl"] == {("GET", "/containers/json")}
    assert policy.decide("GET", "/v1.41/containers/json", "curl") is None
    assert "for client curl" in policy.decide("GET", "/v1.35/images/json", "curl")
    assert policy.decide("GET", "/v1.35/images/json", "docker-py") is None
    assert policy.decide("GET", "/v1.35/images/json", None) is None  # unnamed: the whole list
    assert "is not allowed" in policy.decide("POST", "/v1.41/containers/create", "docker-py")
    engine = make_engine(store, create=False)
    only = core.observe(engine, core.Selection(client="docker-compose"))
    engine.dispose()
    assert [(u.method, u.route) for u in only.routes] == [("HEAD", "/_ping"),
                                                          ("GET", "/containers/json")]


def test_unix_peer_credentials_name_this_process():
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        peer = from_unix_socket(a)
    assert peer is not None and (peer.pid, peer.uid) == (os.getpid(), os.getuid())
    assert peer.exe == os.path.realpath(sys.executable)


def test_loopback_tcp_peer_is_the_connecting_process():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    child = subprocess.Popen([sys.executable, "-c", "import socket, sys, time; "
                              f"s = socket.create_connection(('127.0.0.1', {port})); "
                              "s.recv(1)"])
    try:
        conn, addr = server.accept()
        with conn:
            peer = lookup(conn.getpeername(), conn.getsockname())
            assert (peer.pid, peer.uid) == (child.pid, os.getuid())
            assert peer.process.startswith("python")
            BRIDGED[addr] = peer.__class__(7, 8, "docker", "/usr/bin/docker")
            try:  # a bridged hop (capture --listen unix://): the registered process wins
                assert lookup(conn.getpeername(), conn.getsockname()).pid == 7
            finally:
                BRIDGED.pop(addr)
            conn.sendall(b"x")
    finally:
        child.wait(10)
        server.close()
    assert lookup(("10.1.2.3", 5555), ("10.1.2.4", 2375)).pid is None  # remote: nothing


def test_peer_lookup_is_fast_enough_for_a_thread():
    start = time.perf_counter()
    lookup(("127.0.0.1", 1), ("127.0.0.1", 2))
    assert time.perf_counter() - start < 2


def test_matrix_and_drift_by_client(store, capsys):
    code, out, _ = run(capsys, "matrix", "--db", store, "--by", "client", "--format", "json")
    assert "engine 20.10.24+dfsg1 @ docker-cli" in out and "@ docker-py" in out
    code, out, err = run(capsys, "drift", "--db", store, "--by", "client", "--baseline",
                         "2026-11-30..2026-12-01T12:00", "--current", "2026-12-01T12:00..",
                         "--now", "2026-12-02", "--format", "json")
    assert code == 3 and "client docker-py:" in err
    assert [s["client"] for s in json.loads(out)["sections"]][:2] == ["curl", "docker-cli"]


def test_the_report_section_reads_an_index_not_the_table(store):
    from sqlalchemy import event

    from dockdrift.analysis.clients import load_clients

    engine = make_engine(store, create=False)
    seen: list[tuple] = []

    def capture(_c, _k, statement, params, _x, _m) -> None:  # noqa: ANN001
        if "FROM exchanges" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    load_clients(engine, brief=True)
    event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        plans = [" / ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p))
                 for s, p in seen]
    engine.dispose()
    assert "COVERING INDEX ix_exchanges_clients" in plans[0], plans
    assert "ix_exchanges_clients (client_name=?)" in plans[1], plans  # the unnamed rows only


def test_fields_the_target_documentation_removed_make_a_client_at_risk(tmp_path, capsys):
    """A version-less GET /info (served at 20.10's API 1.41) received `.ClusterStore`, which
    the 1.52 documentation no longer has: at-risk on engine 29.0, with the field named."""
    from dockdrift.db.models import Shape

    db = str(tmp_path / "fields.sqlite")
    engine = make_engine(db)
    row = build_row(method="GET", raw_target=b"/info", started=1764590400.0, ended=None,
                    status_code=200, user_agent="monitor/1.0", target="engine",
                    target_version="20.10.24+dfsg1")
    row.update(client_fields("monitor/1.0"), response_shape="h1")
    with engine.begin() as conn:
        conn.execute(insert(Exchange), [row])
        conn.execute(insert(Shape), [{"shape_hash": "h1", "shape": json.dumps(
            {".ID": ["string"], ".ClusterStore": ["string"]}), "truncated": False,
            "stream": False, "first_seen": T0}])
    engine.dispose()
    code, out, _ = run(capsys, "upgrade", "--db", db, "--to", "engine 29.0", "--format", "json")
    verdict = json.loads(out)["clients"][0]
    assert code == 0 and verdict["verdict"] == "at-risk", verdict
    assert verdict["reasons"] == ["GET /info: field .ClusterStore (received) removed from spec "
                                  "1.41 to spec 1.52"]
    code, out, _ = run(capsys, "upgrade", "--db", db, "--to", "engine 20.10", "--format", "json")
    assert json.loads(out)["clients"][0]["verdict"] == "ok"


def test_a_route_is_the_same_whatever_its_variables_are_called() -> None:
    """The docker CLI's `GET /networks/{networkid:.*}` (recorded against Engine 28.5's table)
    is `GET /networks/{id:.+}` in API 1.52: not a removed route, so not `at-risk`."""
    from dockdrift.analysis.upgrade import normalize

    assert normalize("GET", "/networks/{networkid:.*}") == normalize("GET", "/networks/{id:.+}")
    assert normalize("GET", "/volumes/{volumename:.*}") == normalize("GET", "/volumes/{name}")
    assert normalize("GET", "/volumes/{name}") != normalize("GET", "/volumes/{name}/json")
