"""db.allowlist (regexes, rule order, decision, file) and `dockdrift allowlist` on small stores.

The property test is the contract of every generated proxy configuration: for any method and
path, the first matching rule of `rules()` (what HAProxy evaluates) allows the request exactly
when `decide` does, i.e. when db.routes matches the path to an allowed route with that method
and the path holds no '%'.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockdrift.db import allowlist, routes
from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange
from dockdrift.db.record import build_row
from dockdrift.cli import main
from conftest import need

TEMPLATES = allowlist.docker_router().templates()
METHODS = sorted({m for m, _ in TEMPLATES} | {"get", "PATCH"})
T0 = datetime(2026, 12, 1, 12, 0, 0)


def first_rule_allows(rules: list[allowlist.Rule], method: str, raw_path: str) -> bool:
    """What the generated HAProxy frontend does: first matching rule wins, else deny."""
    path = raw_path.split("?", 1)[0]
    for rule in rules:
        if rule.method == method and re.search(rule.regex, path):
            return rule.allow
    return False


# Paths are built from the templates themselves, with variables filled from pieces that
# provoke every edge: '/', '%', encodings, other templates' literals, empty values.
PIECES = st.sampled_from(["a", "x/y", "", "/", "json", "%2F", "%2e%2e", "%", "..", "v1.41",
                          "start", "cmdline", "_ping", "a:b@sha256", "?", "#", "logs/json"])
VERSIONS = st.sampled_from(["", "", "/v1.41", "/v1", "/v", "/v.1", "/v1.41x", "/v1.41/v1.41"])


@st.composite
def request_for(draw: st.DrawFn) -> tuple[str, str]:
    method, template = draw(st.sampled_from(TEMPLATES))
    filled = routes._VAR.sub(lambda _m: "".join(draw(st.lists(PIECES, max_size=3))), template)
    path = draw(VERSIONS) + filled
    if draw(st.booleans()):
        path = draw(st.text(alphabet="/abcjsonv1.%2F_", max_size=30))
    if draw(st.booleans()):
        path += "?" + draw(st.sampled_from(["a=1", "x=/containers/json", ""]))
    if draw(st.integers(0, 4)) == 0:
        method = draw(st.sampled_from(METHODS))
    return method, path


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(allowed=st.sets(st.sampled_from(TEMPLATES), max_size=12), request=request_for())
def test_rules_allow_exactly_what_decide_allows(allowed, request) -> None:
    method, path = request
    policy = allowlist.Allowlist(frozenset(allowed))
    expected = policy.decide(method, path) is None
    bare = path.split("?", 1)[0]
    m = allowlist.docker_router().match(method, bare)
    assert expected == ("%" not in bare and (method, m.route) in allowed)
    assert first_rule_allows(allowlist.rules(allowed), method, path) == expected


def test_shadowing_templates_are_refused_first() -> None:
    """`/debug/pprof/cmdline` comes before `/debug/pprof/{name}` in the router: allowing the
    second must not allow the first."""
    allowed = {("GET", "/debug/pprof/{name}")}
    rules = allowlist.rules(allowed)
    refused = [r.route for r in rules if not r.allow]
    assert "/debug/pprof/cmdline" in refused
    assert not first_rule_allows(rules, "GET", "/debug/pprof/cmdline")
    assert first_rule_allows(rules, "GET", "/v1.41/debug/pprof/heap")
    assert allowlist.overlap("/containers/json", "/containers/{name:.*}/json") is None


def test_route_regex_and_decisions() -> None:
    rx = allowlist.route_regex("/containers/{name:.*}/json")
    assert rx == r"^(?:/v[0-9][0-9.]*)?/containers/[^%]*/json$"
    assert allowlist.route_regex("/exec/{id}/start").endswith("/exec/[^/%]+/start$")
    policy = allowlist.Allowlist(frozenset({("HEAD", "/_ping"),
                                            ("GET", "/containers/{name:.*}/json")}), "a.json")
    assert policy.decide("HEAD", "/_ping") is None
    assert policy.decide("HEAD", "/v1.41/_ping?x=1") is None
    assert policy.decide("GET", "/v1.41/containers/library/web:1/json") is None
    assert policy.decide("GET", "/_ping") == "dockdrift: GET /_ping is not allowed by a.json"
    assert "percent-encoded" in policy.decide("GET", "/containers/a%2Fb/json")
    assert "no Docker API route" in policy.decide("GET", "/nope")
    with pytest.raises(allowlist.AllowlistError, match="not supported"):
        allowlist.route_regex("/x/{n:[0-9]+}")


@pytest.mark.parametrize("content, message", [
    (None, "cannot read allowlist"),
    ("{", "is not valid JSON"),
    ('{"rows": []}', 'no "routes" list'),
    ('{"routes": [{"method": "GET"}]}', 'needs "method" and "route"'),
    ('{"routes": [{"method": "GET", "route": "/nope"}]}', "is not a route dockdrift knows"),
    ('{"routes": [{"method": "GET", "route": "/_ping", "regex": ".*"}]}', "regex differs"),
    ('{"dockdrift_allowlist": 9, "routes": []}', "is not supported"),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "a.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(allowlist.AllowlistError, match=message) as exc:
        allowlist.load(path)
    assert "\n" not in str(exc.value)


# --- dockdrift allowlist on a store written with db.record ---------------------------------

def store(tmp_path: Path, rows: list[dict]) -> Path:
    db = tmp_path / "s.sqlite"
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(Exchange.__table__.insert(), rows)
    engine.dispose()
    return db


def row(method: str, path: bytes, status: int | None, minute: int = 0, ua: str = "Docker-Client/28",
        denied: bool = False, **kw) -> dict:
    ts = (T0 + timedelta(minutes=minute)).replace(tzinfo=UTC).timestamp()
    r = build_row(method=method, raw_target=path, started=ts, ended=ts, status_code=status,
                  user_agent=ua, target="engine", denied=denied, recorder="r1", **kw)
    return r


ROWS = [  # what differs: a denied POST, an unknown route, a %-path, a second client
    ("HEAD", b"/_ping", 200, 0, "Docker-Client/28"),
    ("GET", b"/v1.41/containers/json?all=1", 200, 1, "Docker-Client/28"),
    ("GET", b"/v1.41/containers/web/json", 404, 2, "Docker-Client/28"),
    ("GET", b"/v1.41/containers/a%20b/json", 404, 3, "Docker-Client/28"),
    ("GET", b"/v1.41/nope", 404, 4, "Docker-Client/28"),
    ("GET", b"/v1.41/events", 200, 5, "Traefik/3.1"),
]


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    rows = [row(*r) for r in ROWS]
    rows.append(row("POST", b"/v1.41/volumes/create", 403, 6, denied=True))
    return store(tmp_path, rows)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["allowlist", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_routes_with_counts_and_leaves_out_what_is_never_allowed(
        small_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--db", str(small_db), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    got = {(r["method"], r["route"]): r for r in doc["routes"]}
    assert set(got) == {("HEAD", "/_ping"), ("GET", "/containers/json"),
                        ("GET", "/containers/{name:.*}/json"), ("GET", "/events")}
    inspect = got[("GET", "/containers/{name:.*}/json")]
    assert inspect["count"] == 2 and inspect["last_seen"] == "2026-12-01 12:03:00"
    assert inspect["regex"] == allowlist.route_regex("/containers/{name:.*}/json")
    assert doc["source"]["never_allowed"] == {"unknown_route": 1, "denied": 1,
                                              "percent_encoded": 1}
    policy = allowlist.parse(doc, "a.json")  # the input of --enforce
    assert policy.decide("POST", "/volumes/create") is not None


def test_user_agent_and_time_filters(small_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--db", str(small_db), "--format", "json",
                           "--user-agent", "^Traefik/")
    assert code == 0
    assert [(r["method"], r["route"]) for r in json.loads(out)["routes"]] == [("GET", "/events")]
    code, out, _ = run_cli(capsys, "--db", str(small_db), "--format", "text",
                           "--since", "2026-12-01T12:01Z", "--until", "2026-12-01T12:02Z")
    assert code == 0 and "/containers/json" in out and "/_ping" not in out


def test_nothing_to_allow_exits_3_unless_allow_empty(
        small_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--db", str(small_db), "--recorder", "other")
    assert code == 3 and out == "" and "--allow-empty" in err and len(err.splitlines()) == 1
    code, out, _ = run_cli(capsys, "--db", str(small_db), "--recorder", "other",
                           "--allow-empty", "--format", "json")
    assert code == 0 and json.loads(out)["routes"] == []


@pytest.mark.parametrize("args, message", [
    (["--user-agent", "("], "not a valid regex"),
    (["--listen", "tcp://0.0.0.0:2377"], "not a loopback address"),
    (["--upstream", "ftp://x"], "bad --upstream"),
    (["--since", "soon"], "--since"),
])
def test_usage_errors_exit_2(small_db: Path, capsys: pytest.CaptureFixture[str],
                             args: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, "--db", str(small_db), *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_haproxy_configuration_is_valid_and_socket_proxy_flags(
        small_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--db", str(small_db), "--format", "socket-proxy")
    flags = [line for line in out.splitlines() if line.startswith("-allow")]
    assert flags[0].startswith("-allowGET=^(?:/v[0-9][0-9.]*)?/containers/json$|")
    assert "-allowHEAD=^(?:/v[0-9][0-9.]*)?/_ping$" in flags
    assert "-socketpath=/var/run/docker.sock" in out
    cfg = tmp_path / "h.cfg"
    code, _, _ = run_cli(capsys, "--db", str(small_db), "--format", "haproxy", "-o", str(cfg),
                         "--listen", "tcp://127.0.0.1:2377", "--upstream", "tcp://127.0.0.1:2375")
    text = cfg.read_text()
    assert code == 0 and "bind 127.0.0.1:2377" in text and "server docker 127.0.0.1:2375" in text
    assert text.count("path_reg ") == 4 and "http-request deny deny_status 403" in text
    need(shutil.which("haproxy") is not None, "haproxy is not installed")
    check = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_report_keeps_denied_rows_apart(tmp_path: Path) -> None:
    """A denied 403 is dockdrift's: not a server code; a dry-run row is the server's."""
    from dockdrift.analysis import load
    from dockdrift.analysis.report import load_report

    rows = [row("HEAD", b"/_ping", 200), row("POST", b"/v1.41/volumes/create", 403, 1,
                                              denied=True, client="10.0.0.5"),
            row("POST", b"/volumes/create", 201, 2,
                error="dry run: would be denied: dockdrift: POST /volumes/create is not ...")]
    engine = make_engine(store(tmp_path, rows), create=False)
    observed = load.observed_counts(engine)
    assert set(zip(observed["route"], observed["status_code"], strict=True)) == {
        ("/_ping", 200), ("/volumes/create", 201)}
    report = load_report(engine)
    denied = report.summary["denied"]
    assert [(d["method"], d["route"], d["dry_run"], d["count"]) for d in denied] == [
        ("POST", "/volumes/create", False, 1), ("POST", "/volumes/create", True, 1)]
    assert denied[0]["client"] == "10.0.0.5" and denied[0]["user_agent"] == "Docker-Client/28"
    from dockdrift.render.report import to_text

    assert "Denied by an allowlist" in to_text(report)
    engine.dispose()


def test_denied_uploads_that_would_be_read_whole_are_cut_off() -> None:
    assert not allowlist.body_too_large("29", None)
    assert not allowlist.body_too_large(None, None)
    assert allowlist.body_too_large(str(allowlist.DENIED_BODY_MAX + 1), None)
    assert allowlist.body_too_large(None, "chunked")
    assert allowlist.body_too_large("12, 12", None)
