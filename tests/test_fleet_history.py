"""History for years: rollups and prune on SQLite and PostgreSQL; report and drift on pruned
windows read the rollups and agree with what the raw rows said."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from drift_helpers import INSPECT, add_exchanges
from sqlalchemy import func, select

from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange, Rollup
from dockdrift.db.rollup import prune, rollup
from dockdrift.cli import main

NOW = datetime(2026, 11, 26, 12, 0, 0)


def raw_count(url: str) -> int:
    engine = make_engine(url, create=False)
    with engine.connect() as c:
        n = int(c.scalar(select(func.count()).select_from(Exchange)) or 0)
    engine.dispose()
    return n


def rolled(url: str) -> int:
    engine = make_engine(url, create=False)
    with engine.connect() as c:
        n = int(c.scalar(select(func.coalesce(func.sum(Rollup.count), 0))) or 0)
    engine.dispose()
    return n


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rollup_then_prune_never_loses_a_count(store_url: str) -> None:
    d0 = NOW - timedelta(days=10)
    add_exchanges(store_url, INSPECT, {200: 90, 404: 10, None: 2}, d0, d0 + timedelta(days=5))
    add_exchanges(store_url, INSPECT, {200: 30}, NOW - timedelta(hours=3), NOW)  # today
    engine = make_engine(store_url)
    first = rollup(engine, now=NOW)
    assert first.rows == 102 and rollup(engine, now=NOW).days == []  # idempotent
    add_exchanges(store_url, INSPECT, {409: 4}, d0, d0 + timedelta(hours=1), seed=9)  # late rows
    result = prune(engine, NOW - timedelta(days=2), now=NOW)
    assert result.rows == 106
    assert raw_count(store_url) == 30 and rolled(store_url) == 106
    add_exchanges(store_url, INSPECT, {500: 3}, d0, d0 + timedelta(hours=1), seed=11)  # shipped late
    prune(engine, NOW - timedelta(days=2), now=NOW)
    assert raw_count(store_url) == 30 and rolled(store_url) == 109
    engine.dispose()


def test_report_on_a_pruned_window_reads_rollups_and_says_so(store_url: str, capsys) -> None:
    d0 = NOW - timedelta(days=10)
    add_exchanges(store_url, INSPECT, {200: 60, 404: 15}, d0, d0 + timedelta(days=3))
    window = ["--since", (d0 - timedelta(days=1)).isoformat(),
              "--until", (d0 + timedelta(days=4)).isoformat()]
    _, before, _ = run(capsys, "report", "--db", store_url, "--format", "json", *window)
    engine = make_engine(store_url)
    prune(engine, NOW - timedelta(days=2), now=NOW)
    engine.dispose()
    assert raw_count(store_url) == 0
    code, after, err = run(capsys, "report", "--db", store_url, "--format", "json", *window)
    assert code == 0 and "rollups" in err
    observed = {r["route"]: r["observed"] for r in json.loads(after)["routes"]}
    assert observed == {r["route"]: r["observed"] for r in json.loads(before)["routes"]}
    assert observed[INSPECT[1]] == {"200": 60, "404": 15}


def _observed(out: str) -> dict:
    doc = json.loads(out)
    return {r["route"]: r["observed"] for r in doc["routes"]}


def test_history_reads_as_one_after_rollup_and_prune(store_url: str, capsys) -> None:
    """A report over all time, and over a window straddling the prune boundary, counts the same
    before and after `rollup` + `prune` of everything older than a day; a store whose raw rows
    are all pruned is not empty."""
    d0 = NOW - timedelta(days=10)
    add_exchanges(store_url, INSPECT, {200: 70, 404: 20, 500: 5}, d0, d0 + timedelta(days=4))
    add_exchanges(store_url, INSPECT, {200: 40, 409: 6}, NOW - timedelta(hours=10), NOW,
                  seed=5)
    windows = {"all time": [],
               "straddling": ["--since", d0.date().isoformat(), "--until", NOW.isoformat()]}
    before = {}
    for name, flags in windows.items():
        code, out, err = run(capsys, "report", "--db", store_url, "--format", "json", *flags)
        assert code in (0, 1), (name, err)
        before[name] = _observed(out)
    assert sum(sum(c.values()) for c in before["all time"].values()) == 141
    engine = make_engine(store_url)
    rollup(engine, now=NOW)
    prune(engine, NOW - timedelta(days=1), now=NOW)
    engine.dispose()
    assert raw_count(store_url) == 46  # the last day stays raw
    for name, flags in windows.items():
        code, out, err = run(capsys, "report", "--db", store_url, "--format", "json", *flags)
        assert code in (0, 1), (name, err)
        assert _observed(out) == before[name], name
        assert "rollups" in err and "raw" in err, (name, err)
    engine = make_engine(store_url)  # two days later every raw row is pruned
    later = NOW + timedelta(days=2)
    rollup(engine, now=later)
    prune(engine, later - timedelta(days=1), now=later)
    engine.dispose()
    assert raw_count(store_url) == 0
    code, out, err = run(capsys, "report", "--db", store_url, "--format", "json")
    assert code in (0, 1) and "holds no exchanges" not in err, err
    assert _observed(out) == before["all time"]


def test_drift_between_pruned_windows(store_url: str, capsys) -> None:
    b0, c0 = NOW - timedelta(days=30), NOW - timedelta(days=20)
    add_exchanges(store_url, INSPECT, {200: 900, 404: 100}, b0, b0 + timedelta(days=5))
    add_exchanges(store_url, INSPECT, {200: 400, 404: 500}, c0, c0 + timedelta(days=5), seed=3)
    engine = make_engine(store_url)
    prune(engine, NOW - timedelta(days=2), now=NOW)
    engine.dispose()
    code, out, err = run(capsys, "drift", "--db", store_url, "--format", "json",
                         "--baseline", f"{b0.date()}..{(b0 + timedelta(days=6)).date()}",
                         "--current", f"{c0.date()}..{(c0 + timedelta(days=6)).date()}")
    assert code == 1, err
    assert "rollups" in err
    assert {f["kind"] for f in json.loads(out)["findings"]} >= {"share_shift"}


def test_prune_and_rollup_commands(tmp_path, capsys) -> None:
    db = str(tmp_path / "c.sqlite")
    add_exchanges(db, INSPECT, {200: 5}, datetime(2026, 1, 1), datetime(2026, 1, 2))
    code, _, err = run(capsys, "rollup", "--db", db)
    assert code == 0 and "1 day(s) rolled up (2026-01-01..2026-01-01), 5 exchanges" in err
    code, _, err = run(capsys, "prune", "--db", db, "--before", "90d")
    assert code == 0 and "5 raw exchanges deleted from 1 day(s)" in err
    code, _, err = run(capsys, "prune", "--db", db, "--before", "soon")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("cmd", ["rollup", "prune"])
def test_missing_store_is_one_line(cmd, tmp_path, capsys) -> None:
    extra = ["--before", "90d"] if cmd == "prune" else []
    code, _, err = run(capsys, cmd, "--db", "postgresql+psycopg://x@127.0.0.1:1/none", *extra)
    assert code == 2 and len(err.strip().splitlines()) == 1


def _two_hosts(url: str) -> None:
    """host-a: inspect 404s jump from 10% to 55% in the last day; host-b: no change."""
    from sqlalchemy import update

    from drift_helpers import capture as drift_capture

    engine = make_engine(url)
    drift_capture(url, shifted=True)  # type: ignore[arg-type]
    with engine.begin() as c:
        c.execute(update(Exchange).values(recorder="host-a"))
    engine.dispose()
    drift_capture(url, shifted=False, seed=7)  # type: ignore[arg-type]
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(update(Exchange).where(Exchange.recorder.is_(None)).values(recorder="host-b"))
    engine.dispose()


def test_recorder_filters_and_by_recorder(store_url: str, capsys) -> None:
    from drift_helpers import NOW as DNOW

    _two_hosts(store_url)
    now = ["--now", DNOW.isoformat()]
    code, out, _ = run(capsys, "drift", "--db", store_url, "--by", "recorder", "--format",
                       "json", *now)
    doc = json.loads(out)
    assert code == 1 and [s["recorder"] for s in doc["sections"]] == ["host-a", "host-b"]
    assert {f["recorder"] for f in doc["findings"]} == {"host-a"}
    code, out, _ = run(capsys, "drift", "--db", store_url, "--recorder", "host-b", "--format",
                       "json", *now)
    assert code == 0 and json.loads(out)["current"]["recorders"] == ["host-b"]
    # the same window, two groups of hosts: host-a's current day against host-b's
    code, out, _ = run(capsys, "drift", "--db", store_url, "--baseline-recorder", "host-b",
                       "--current-recorder", "host-a", "--format", "json", *now)
    assert code == 1 and json.loads(out)["baseline"]["recorders"] == ["host-b"]
    code, out, _ = run(capsys, "report", "--db", store_url, "--by", "recorder", "--format",
                       "json")
    sections = json.loads(out)["sections"]
    assert [s["recorder"] for s in sections] == ["host-a", "host-b"]
    code, out, _ = run(capsys, "report", "--db", store_url, "--recorder", "host-a",
                       "--format", "json")
    assert json.loads(out)["summary"]["filter"]["recorders"] == ["host-a"]
    code, _, err = run(capsys, "report", "--db", store_url, "--by", "recorder", "--format",
                       "html")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_matrix_by_recorder_and_recorder_filter(store_url: str, capsys) -> None:
    """Two recorders in front of the same implementation: one column each."""
    from sqlalchemy import insert

    engine = make_engine(store_url)
    rows = [{"started_at": NOW, "method": "GET", "path": "/v1.45/containers/x/json",
             "route": "/containers/{name:.*}/json", "api_version": "1.45",
             "status_code": code, "target": "engine", "target_version": "26.1.5+dfsg1",
             "recorder": rec, "hijacked": False}
            for rec, code in [("ci-1", 404), ("ci-1", 404), ("ci-2", 500)]]
    with engine.begin() as c:
        c.execute(insert(Exchange), rows)
    engine.dispose()
    code, out, _ = run(capsys, "matrix", "--db", store_url, "--by", "recorder", "--format",
                       "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["implementations"] == ["engine 26.1.5+dfsg1 @ ci-1", "engine 26.1.5+dfsg1 @ ci-2"]
    row = doc["rows"][0]
    assert row["documented"]["engine 26.1.5+dfsg1 @ ci-1"] == [200, 404, 500]
    code, out, _ = run(capsys, "matrix", "--db", store_url, "--recorder", "ci-1", "--format",
                       "json")
    assert code == 3  # one implementation left: not enough to compare


def test_by_recorder_exits_3_when_it_cannot_decide(store_url: str, capsys) -> None:
    """`--by recorder` on nothing to split is "not enough data", as the plain commands are:
    a cron job must not read an empty output as "all documented"."""
    from drift_helpers import NOW as DNOW

    make_engine(store_url).dispose()  # an empty store
    for argv in (["report"], ["drift", "--now", DNOW.isoformat()]):
        code, out, err = run(capsys, *argv, "--db", store_url, "--by", "recorder",
                             "--format", "json")
        assert code == 3, (argv, err)
        assert "has a recorder name" in err and json.loads(out)["sections"] == []
        code, _, _ = run(capsys, *argv, "--db", store_url, "--by", "recorder", "--format",
                         "json", "--allow-empty")
        assert code == 0
    _two_hosts(store_url)
    code, _, err = run(capsys, "report", "--db", store_url, "--by", "recorder", "--format",
                       "json", "--min-total", "10000000")
    # undocumented codes win over too little data; each shortfall is still said
    assert code == 1 and "recorder host-a:" in err and "recorder host-b:" in err
