"""`dockdrift report` and `dockdrift routes`: formats, exit codes 0/1/2, bad inputs (in process)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import datetime

import pytest
from pg_fixtures import BACKENDS, backend_store
from report_helpers import T0, write_capture

from dockdrift.commands.options import parse_time
from dockdrift.cli import main
from dockdrift.errors import UsageError

JSON_ROUTE = "/containers/{name:.*}/json"


@pytest.fixture(scope="module", params=BACKENDS)
def capture(request, tmp_path_factory):
    """The literal capture, on SQLite and on PostgreSQL (the fleet store)."""
    return write_capture(backend_store(request, tmp_path_factory.mktemp("cli"), "literal"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_exit_1_and_no_colour_off_a_tty(capsys, capture):
    code, out, err = run(capsys, "report", "--db", str(capture))
    assert code == 1
    assert "\x1b[" not in out
    assert "POST    /containers/{name:.*}/wait" in out
    assert "4 undocumented code(s) observed" in out
    assert "connection refused" in out and "/v1.41/nope" in out  # failures, unknown routes


def test_colour_only_when_asked(capture):
    from dockdrift.analysis import load
    from dockdrift.analysis.report import load_report
    from dockdrift.render.report import to_text
    from dockdrift.db.engine import make_engine

    engine = make_engine(capture, create=False)
    rep = load_report(engine, load.Filter(), "seed")
    engine.dispose()
    assert "\x1b[1;31m200×3\x1b[0m" in to_text(rep, use_color=True)
    assert "\x1b[" not in to_text(rep, use_color=False)


def test_exit_0_when_everything_observed_is_documented(capsys, capture):
    code, out, _ = run(capsys, "report", "--db", str(capture), "--target", "engine",
                       "--route", JSON_ROUTE)
    assert code == 0 and "every observed code is documented" in out


def test_a_filter_matching_nothing_is_not_enough_data(capsys, capture):
    """Not a usage error (2) and not green (0): 3, unless --allow-empty (issue 14)."""
    code, out, err = run(capsys, "report", "--db", str(capture), "--route", "/no-such-route")
    assert code == 3 and "not enough data to decide" in out
    assert "matches --route /no-such-route at any time" in err
    code, out, _ = run(capsys, "report", "--db", str(capture), "--route", "/no-such-route",
                       "--allow-empty")
    assert code == 0 and "not enough data to decide" in out


def test_json_shape_and_filters(capsys, capture):
    code, out, _ = run(capsys, "report", "--db", str(capture), "--format", "json",
                       "--method", "post", "--against", "spec")
    assert code == 0  # against the OpenAPI tables: wait 200 and start 304 are documented
    data = json.loads(out)
    assert {(r["target"], r["route"]) for r in data["routes"]} == {
        ("engine", "/containers/{name:.*}/wait"), ("engine", "/containers/{name:.*}/start"),
        ("swarm", "/containers/{name:.*}/start")}
    assert all(r["undocumented"] == [] for r in data["routes"])
    assert data["summary"]["against"] == "spec"


def test_time_window_selects_exchanges(capsys, capture):
    # exchanges are one minute apart from T0; the first four are the engine json route
    since, until = T0.isoformat(), T0.replace(minute=4).isoformat()
    code, out, _ = run(capsys, "report", "--db", str(capture), "--since", since,
                       "--until", until, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["summary"]["exchanges"] == 4
    assert [r["observed"] for r in data["routes"]] == [{"200": 3, "404": 1}]


def test_csv_and_markdown(capsys, capture):
    _, out, _ = run(capsys, "report", "--db", str(capture), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    kinds = {(r["target"], r["route"], r["status_code"]): r["finding"] for r in rows}
    assert kinds[("engine", "/containers/{name:.*}/wait", "200")] == "undocumented"
    assert kinds[("engine", "/containers/{name:.*}/wait", "204")] == "unobserved"
    assert kinds[("engine", "/images/viz", "404")] == "absent-404"
    assert kinds[("engine", "", "404")] == "unknown-route"
    assert kinds[("engine", "/containers/json", "")] == "proxy-failure"
    _, md, _ = run(capsys, "report", "--db", str(capture), "--format", "markdown")
    assert md.startswith("# dockdrift report") and "| swarm | POST |" in md


def test_html_is_self_contained(capsys, capture, tmp_path):
    out_file = tmp_path / "report.html"
    code, out, err = run(capsys, "report", "--db", str(capture), "--format", "html",
                         "--output", str(out_file))
    page = out_file.read_text()
    assert code == 1 and out == "" and f"wrote {out_file}" in err
    assert page.count("data:image/png;base64,") >= 4  # heat map, swarm/engine, coverage, bars
    assert "<link" not in page and "<script" not in page and "src=\"http" not in page
    assert "Swarm vs Engine" in page and "/v1.41/nope" in page


@pytest.mark.parametrize("argv,message", [
    (["--against", "spec:1.40"], "available versions: 1.25, 1.41, 1.45, 1.51, 1.52, 1.55"),
    (["--against", "openapi"], "--against must be seed, spec or spec:VERSION"),
    (["--since", "yesterday"], "--since: bad time 'yesterday'"),
    (["--since", "1h", "--until", "2h"], "must be before --until"),
])
def test_usage_errors_exit_2_with_one_line(capsys, capture, argv, message):
    code, out, err = run(capsys, "report", "--db", str(capture), *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_databases_exit_2(capsys, tmp_path):
    missing = tmp_path / "missing.sqlite"
    code, _, err = run(capsys, "report", "--db", str(missing))
    assert code == 2 and "does not exist" in err and not missing.exists()
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database at all\n" * 200)
    code, _, err = run(capsys, "report", "--db", str(corrupt))
    assert code == 2 and "not a readable SQLite database" in err and err.count("\n") == 1
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("create table songs (title text)")
    code, _, err = run(capsys, "report", "--db", str(foreign))
    assert code == 2 and "not a dockdrift database" in err


def test_read_only_store_computes_the_tables_in_memory(tmp_path):
    """A store that refuses writes (SQLite query_only) still gets the documented tables."""
    from sqlalchemy import event

    from dockdrift.analysis.report import documented_frame
    from dockdrift.db.engine import make_engine

    writable = make_engine(write_capture(tmp_path / "rw.sqlite"), create=False)
    expected = documented_frame(writable)
    writable.dispose()
    engine = make_engine(write_capture(tmp_path / "ro.sqlite"), create=False)
    engine.dispose()  # new connections only from here on, all of them read-only
    event.listen(engine, "connect", lambda con, _rec: con.execute("PRAGMA query_only=ON"))
    got = documented_frame(engine)
    engine.dispose()
    key = ["source", "api_version", "target", "method", "route", "status_code"]
    assert len(got) == len(expected) > 1000
    assert (got.sort_values(key).astype(str).values.tolist()
            == expected.sort_values(key).astype(str).values.tolist())
    with sqlite3.connect(tmp_path / "ro.sqlite") as con:  # nothing was written
        assert con.execute("select count(*) from documented_codes").fetchone() == (0,)


def test_parse_time_forms():
    now = datetime(2026, 11, 26, 12, 0)
    assert parse_time("now", "--until", now) == now
    assert parse_time("7d", "--since", now) == datetime(2026, 11, 19, 12, 0)
    assert parse_time("90m", "--since", now) == datetime(2026, 11, 26, 10, 30)
    assert parse_time("2026-11-26T10:00:00+02:00", "--since") == datetime(2026, 11, 26, 8, 0)
    assert parse_time("2026-11-26", "--since") == datetime(2026, 11, 26)
    with pytest.raises(UsageError, match="--until: bad time"):
        parse_time("2026-13-40", "--until")


def test_routes_command(capsys):
    code, out, _ = run(capsys, "routes", "--route", "/wait", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"method": "POST", "route": "/containers/{name:.*}/wait",
                                "handler": "proxyContainerAndForceRefresh",
                                "swarm": "204 404 500", "docker": "204 404 500"}]
    code, out, _ = run(capsys, "routes", "--version", "1.41", "--method", "head")
    assert code == 0 and "HEAD    /_ping" in out and "SystemPingHead" in out
    _, out, _ = run(capsys, "routes", "--route", "/images/viz", "--target", "engine",
                    "--format", "csv")
    assert out.splitlines() == ["method,route,handler,docker",
                                "GET,/images/viz,notImplementedHandler,n/a"]
    code, _, err = run(capsys, "routes", "--version", "1.99")
    assert code == 2 and "available: 1.22, 1.25, 1.41, 1.45, 1.51, 1.52, 1.55" in err
    code, _, err = run(capsys, "routes", "--version", "1.41", "--target", "swarm")
    assert code == 2 and "no Swarm column" in err


def test_entry_point_help_is_light():
    """`dockdrift report --help` must not import pandas or matplotlib."""
    code = ("import sys; from dockdrift.cli import main\n"
            "try: main(['report', '--help'])\nexcept SystemExit: pass\n"
            "assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "--against" in r.stdout


# --- implementations ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def implementations(tmp_path_factory):
    from report_helpers import IMPLEMENTATION_ROWS

    return write_capture(tmp_path_factory.mktemp("impl") / "impl.sqlite", IMPLEMENTATION_ROWS)


def test_against_own_and_podman(capsys, implementations):
    code, out, _ = run(capsys, "report", "--db", str(implementations), "--against", "own",
                       "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["summary"]["against"] == "own"
    undocumented = {(r["target"], r["method"], r["route"]): r["undocumented"]
                    for r in data["routes"] if r["undocumented"]}
    assert undocumented == {("podman", "POST", "/containers/{name:.*}/update"): [404],
                            ("podman", "HEAD", "/_ping"): [200],
                            ("swarm", "POST", "/containers/{name:.*}/start"): [304]}
    assert data["summary"]["targets"]["podman"]["tables"] == ["podman-v4.3.1"]
    assert data["summary"]["targets"]["engine"]["tables"] == ["spec-v1.45"]
    not_in = {(r["target"], r["route"]) for r in data["summary"]["not_in_table"]}
    assert ("podman", "/containers/{name:.*}/update") in not_in
    code, out, _ = run(capsys, "report", "--db", str(implementations), "--against", "podman",
                       "--target", "podman", "--route", "/libpod", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [r["route"] for r in data["routes"]] == ["/libpod/info"]


def test_against_podman_unknown_version_exits_2(capsys, implementations):
    code, out, err = run(capsys, "report", "--db", str(implementations), "--against",
                         "podman:9.9")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "no Podman table for '9.9'; available versions: 4.3.1" in err


def test_routes_table_podman(capsys):
    code, out, _ = run(capsys, "routes", "--table", "podman", "--route", "/libpod/info",
                       "--format", "json")
    assert code == 0 and json.loads(out) == [{
        "method": "GET", "route": "/libpod/info", "api": "libpod", "handler": "libpod.GetInfo",
        "operation_id": "SystemInfoLibpod", "podman": "200 500",
        "versioned": "[0-9][0-9A-Za-z.-]*", "unversioned": "", "path_prefix": ""}]
    _, out, _ = run(capsys, "routes", "--table", "podman:4.3.1", "--method", "*",
                    "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 9 and {r["path_prefix"] for r in rows} == {"yes", ""}
    code, out, _ = run(capsys, "routes", "--table", "podman:4.3.1")
    assert code == 0 and out.startswith("Documented status codes, Podman 4.3.1")
    assert len(out.splitlines()) == 4 + 190
    code, out, _ = run(capsys, "routes", "--table", "podman")  # the newest
    assert code == 0 and out.startswith("Documented status codes, Podman 5.8.3")
    assert len(out.splitlines()) == 4 + 215
    code, out, _ = run(capsys, "routes", "--table", "spec:1.45", "--route", "/volumes/{name:.*}",
                       "--method", "put", "--format", "csv")
    assert out.splitlines()[1] == "PUT,/volumes/{name:.*},putVolumesUpdate,VolumeUpdate,200 400 404 500 503"


@pytest.mark.parametrize("argv,message", [
    (["--table", "podman:9.9"], "no Podman table for '9.9'; available: 4.3.1"),
    (["--table", "podman", "--target", "swarm"], "Podman's table documents Podman only"),
    (["--target", "podman"], "only Podman's table has a Podman column"),
    (["--table", "swagger"], "--table must be seed, spec:VERSION, podman or podman:VERSION"),
])
def test_routes_table_errors(capsys, argv, message):
    code, out, err = run(capsys, "routes", *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
