"""Scheduled runs cannot be silently green: exit 3 on missing data, recording gaps, versions.

Stores are built from literal rows (drift_helpers.add_exchanges, `steady` below: one exchange
every few minutes, so the gaps are exactly the ones a test leaves) or by benchmarks/generate.py.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from benchmarks.generate import generate
from dockdrift.db.engine import ensure_schema, make_engine
from dockdrift.db.models import Exchange
from dockdrift.cli import main
from dockdrift.version import package_version, version_info, version_line
from drift_helpers import INSPECT, NOW, add_exchanges

AT = ["--now", NOW.isoformat()]
WINDOWS = ["--baseline", "8d..1d", "--current", "1d..now"]


def steady(db: Path, start: datetime, end: datetime, every: timedelta = timedelta(minutes=5),
           recorder: str = "rec-a", target: str = "engine") -> int:
    """One GET /_ping answered 200 every `every` from start (inclusive) to end (exclusive)."""
    rows, t = [], start
    while t < end:
        rows.append({"started_at": t, "method": "GET", "path": "/_ping", "route": "/_ping",
                     "status_code": 200, "target": target, "hijacked": False,
                     "recorder": recorder, "denied": False})
        t += every
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(insert(Exchange), rows)
    engine.dispose()
    return len(rows)


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def drift(capsys: pytest.CaptureFixture, db: Path, *args: str) -> tuple[int, dict, str]:
    rc, out, err = run(capsys, "drift", "--db", str(db), *AT, "--format", "json", *args)
    return rc, json.loads(out), err


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """Eight days of pings every 5 minutes up to NOW: enough for both default windows."""
    db = tmp_path / "week.sqlite"
    steady(db, NOW - timedelta(days=8), NOW)
    return db


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    db = tmp_path / "empty.sqlite"
    ensure_schema(make_engine(db), create=True)
    return db


# --- exit 3: not enough data to decide ------------------------------------------------------

def test_empty_store_exits_3_once_with_the_reason(capsys, empty: Path) -> None:
    rc, out, err = drift(capsys, empty, "--baseline", "30d..20d", "--current", "20d..10d")
    assert rc == 3
    assert out["findings"] == []
    assert [s["scope"] for s in out["insufficient"]] == ["store"]  # said once, not per window
    assert "holds no exchanges at all" in err and err.count("\n") == 1


def test_empty_store_allow_empty_exits_0_and_still_says_so(capsys, empty: Path) -> None:
    rc, out, err = drift(capsys, empty, "--allow-empty")
    assert rc == 0
    assert out["insufficient"] and "not enough data" in err


def test_empty_baseline_exits_3(capsys, tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    steady(db, NOW - timedelta(hours=20), NOW)  # a capture younger than the baseline window
    rc, out, err = drift(capsys, db, *WINDOWS)
    assert rc == 3
    assert [s["scope"] for s in out["insufficient"]] == ["baseline"]
    assert "baseline window" in err and "holds no exchanges" in err
    assert "from 2026-11-25 16:00:00" in err  # where the data is


def test_empty_current_exits_3_and_the_text_says_it(capsys, tmp_path: Path) -> None:
    db = tmp_path / "dead.sqlite"
    steady(db, NOW - timedelta(days=8), NOW - timedelta(days=2))  # recorder died 2 days ago
    rc, out, err = run(capsys, "drift", "--db", str(db), *AT, *WINDOWS)
    assert rc == 3
    assert "not enough data to decide: the current window" in out
    assert "no drift" not in out
    rc, md, _ = run(capsys, "drift", "--db", str(db), *AT, *WINDOWS, "--format", "markdown")
    assert rc == 3 and "**not enough data to decide" in md


def test_filter_that_matches_nothing_exits_3_naming_what_exists(capsys, week: Path) -> None:
    rc, out, err = drift(capsys, week, *WINDOWS, "--recorder", "rec-b")
    assert rc == 3
    assert [s["scope"] for s in out["insufficient"]] == ["filter"]
    assert "matches --recorder rec-b" in err and "rec-a" in err
    rc, out, err = drift(capsys, week, *WINDOWS, "--target", "swarm")
    assert rc == 3 and "engine (" in err
    rc, out, _ = drift(capsys, week, *WINDOWS, "--recorder", "rec-a", "--target", "engine")
    assert rc == 0 and out["insufficient"] == []


def test_below_min_total_exits_3_per_window(capsys, tmp_path: Path) -> None:
    db = tmp_path / "thin.sqlite"
    steady(db, NOW - timedelta(days=8), NOW - timedelta(days=1), every=timedelta(hours=12))
    steady(db, NOW - timedelta(days=1), NOW, every=timedelta(hours=1))  # 24 < 30
    rc, out, err = drift(capsys, db, *WINDOWS)
    assert rc == 3
    by_scope = {s["scope"]: s for s in out["insufficient"]}
    assert by_scope["baseline"]["n_answered"] == 14 and by_scope["current"]["n_answered"] == 24
    assert "fewer than min_total = 30" in err
    assert out["untested_routes"] == [{"target": "engine", "method": "GET", "route": "/_ping",
                                       "baseline_n": 14, "current_n": 24}]
    rc, out, _ = drift(capsys, db, *WINDOWS, "--min-total", "10")
    assert rc == 0 and out["insufficient"] == []


def test_findings_win_over_too_little_data(capsys, tmp_path: Path) -> None:
    """A new code is a decision the data supports: exit 1, with the shortfall printed too."""
    db = tmp_path / "mixed.sqlite"
    add_exchanges(db, INSPECT, {200: 200}, NOW - timedelta(days=8), NOW - timedelta(days=1))
    add_exchanges(db, INSPECT, {200: 15, 500: 10}, NOW - timedelta(days=1), NOW)  # 25 < 30
    rc, out, err = drift(capsys, db, *WINDOWS)
    assert rc == 1
    assert [(f["kind"], f["code"]) for f in out["findings"]] == [("new_code", 500)]
    assert out["insufficient"][0]["scope"] == "current" and "not enough data" in err


def test_config_min_total_applies(capsys, tmp_path: Path, week: Path) -> None:
    cfg = tmp_path / "dockdrift.toml"
    cfg.write_text("[drift]\nmin_total = 100000\n")
    rc, out, _ = drift(capsys, week, *WINDOWS, "--config", str(cfg))
    assert rc == 3 and len(out["insufficient"]) == 2


def test_since_last_run_with_nothing_new_exits_3_and_is_not_saved(capsys, tmp_path: Path) -> None:
    db = tmp_path / "cron.sqlite"
    steady(db, NOW - timedelta(days=8), NOW)
    first = NOW.isoformat()
    assert main(["drift", "--db", str(db), "--now", first, *WINDOWS, "--save"]) == 0
    capsys.readouterr()
    later = (NOW + timedelta(hours=6)).isoformat()  # the recorder wrote nothing since
    rc = main(["drift", "--db", str(db), "--now", later, "--since-last-run", "--save"])
    err = capsys.readouterr().err
    assert rc == 3
    assert "the current window 2026-11-26 12:00:00 .. 2026-11-26 18:00:00 holds no" in err
    assert "run not saved" in err
    with sqlite3.connect(db) as conn:  # the next run still starts from the good one
        runs = conn.execute("SELECT current_end, dockdrift_version FROM drift_runs").fetchall()
    assert runs == [("2026-11-26 12:00:00.000000", package_version())]
    steady(db, NOW, NOW + timedelta(hours=12))  # recording resumed
    rc = main(["drift", "--db", str(db), "--now", (NOW + timedelta(hours=12)).isoformat(),
               "--since-last-run", "--save"])
    assert rc == 0


def test_report_exits_3_on_nothing_matched(capsys, empty: Path, week: Path) -> None:
    rc, out, err = run(capsys, "report", "--db", str(empty))
    assert rc == 3 and "holds no exchanges at all" in err
    assert "not enough data to decide" in out
    rc, out, err = run(capsys, "report", "--db", str(week), "--since", "2026-10-01",
                       "--until", "2026-10-02", "--format", "json")
    assert rc == 3 and json.loads(out)["summary"]["insufficient"][0]["scope"] == "report"
    assert "time range 2026-10-01 00:00:00 .. 2026-10-02 00:00:00 holds no exchanges" in err
    assert run(capsys, "report", "--db", str(week), "--recorder", "nobody")[0] == 3
    assert run(capsys, "report", "--db", str(week), "--recorder", "nobody",
               "--allow-empty")[0] == 0
    assert run(capsys, "report", "--db", str(week))[0] == 0
    rc, _, err = run(capsys, "report", "--db", str(week), "--min-total", "1000000")
    assert rc == 3 and "fewer than min_total = 1000000" in err


# --- recording gaps ---------------------------------------------------------------------

def test_recording_gap_found_inside_the_window(capsys, tmp_path: Path) -> None:
    db = tmp_path / "gap.sqlite"
    steady(db, NOW - timedelta(days=8), NOW - timedelta(hours=10))
    steady(db, NOW - timedelta(hours=7), NOW)  # 3 hours without a single exchange
    rc, out, _ = drift(capsys, db, *WINDOWS, "--max-gap", "1h")
    assert rc == 1
    [gap] = out["findings"]
    assert gap["kind"] == "recording_gap" and not gap["until_end"]
    assert gap["gap_start"] == "2026-11-26T01:55:00" and gap["gap_end"] == "2026-11-26T05:00:00"
    assert gap["max_gap_seconds"] == 3600
    rc, text, _ = run(capsys, "drift", "--db", str(db), *AT, *WINDOWS, "--max-gap", "1h")
    assert "recording_gap" in text and "3h 5m" in text


def test_both_gap_plans_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Index probes (the usual plan) and the LAG scan (long windows) find the same gaps."""
    from dockdrift.analysis.drift import gaps
    from dockdrift.analysis.load import Filter

    db = tmp_path / "plans.sqlite"
    steady(db, NOW - timedelta(days=3), NOW - timedelta(days=2), every=timedelta(minutes=7))
    steady(db, NOW - timedelta(hours=40), NOW - timedelta(hours=30))
    steady(db, NOW - timedelta(hours=29, minutes=30), NOW - timedelta(hours=2))
    engine = make_engine(db, create=False)
    for flt in (Filter(since=NOW - timedelta(days=2), until=NOW), Filter(until=NOW),
                Filter(since=NOW - timedelta(hours=20), until=NOW + timedelta(days=1))):
        probed = gaps.recording_gaps(engine, flt, timedelta(minutes=20), NOW)
        monkeypatch.setattr(gaps, "MAX_PROBES", 0)
        assert gaps.recording_gaps(engine, flt, timedelta(minutes=20), NOW) == probed
        monkeypatch.undo()
        assert probed and all(b - a > timedelta(minutes=20) for a, b in probed)
    assert gaps.recording_gaps(engine, Filter(until=NOW), timedelta(minutes=20), NOW) == [
        (NOW - timedelta(days=2, minutes=5), NOW - timedelta(hours=40)),
        (NOW - timedelta(hours=2, minutes=5), NOW),
        (NOW - timedelta(hours=30, minutes=5), NOW - timedelta(hours=29, minutes=30))]


def test_recording_gap_not_found_in_a_steady_capture(capsys, week: Path) -> None:
    rc, out, _ = drift(capsys, week, *WINDOWS, "--max-gap", "1h")
    assert rc == 0 and out["findings"] == []
    rc, out, _ = drift(capsys, week, *WINDOWS, "--max-gap", "5m")  # exactly 5m apart: no gap
    assert rc == 0


def test_recorder_that_stopped_is_a_gap_to_now(capsys, tmp_path: Path) -> None:
    db = tmp_path / "stopped.sqlite"
    steady(db, NOW - timedelta(days=8), NOW - timedelta(hours=3))
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.dockdrift.drift]\nmax_gap = "2h"\n')
    rc, out, _ = drift(capsys, db, *WINDOWS, "--config", str(cfg))
    assert rc == 1
    [gap] = out["findings"]
    assert gap["until_end"] and gap["gap_end"] == NOW.isoformat()
    assert gap["gap_start"] == "2026-11-26T08:55:00"


def test_gap_of_one_recorder_among_two(capsys, tmp_path: Path) -> None:
    db = tmp_path / "fleet.sqlite"
    steady(db, NOW - timedelta(days=8), NOW, recorder="rec-a")
    steady(db, NOW - timedelta(days=8), NOW - timedelta(hours=5), recorder="rec-b")
    assert drift(capsys, db, *WINDOWS, "--max-gap", "1h")[0] == 0  # the store as a whole
    rc, out, _ = drift(capsys, db, *WINDOWS, "--max-gap", "1h", "--recorder", "rec-b")
    assert rc == 1 and out["findings"][0]["recorders"] == ["rec-b"]


def test_empty_current_window_after_recording_is_one_gap(capsys, tmp_path: Path) -> None:
    db = tmp_path / "silent.sqlite"
    steady(db, NOW - timedelta(days=8), NOW - timedelta(days=1))
    rc, out, err = drift(capsys, db, *WINDOWS, "--max-gap", "1h")
    assert rc == 1  # the gap is a finding; the empty window is said as well
    [gap] = out["findings"]
    assert (gap["gap_start"], gap["gap_end"]) == ("2026-11-25T12:00:00", NOW.isoformat())
    assert out["insufficient"][0]["scope"] == "current"


def test_bad_max_gap_is_a_usage_error(capsys, week: Path, tmp_path: Path) -> None:
    rc, _, err = run(capsys, "drift", "--db", str(week), "--max-gap", "soon")
    assert rc == 2 and "--max-gap" in err and "bad duration" in err
    cfg = tmp_path / "dockdrift.toml"
    cfg.write_text('[drift]\nmax_gap = "0s"\n')
    rc, _, err = run(capsys, "drift", "--db", str(week), "--config", str(cfg))
    assert rc == 2 and "max_gap" in err


def test_gaps_on_a_generated_store(capsys, tmp_path: Path) -> None:
    """benchmarks/generate.py rows (as dense as a busy capture) with a hole of two hours."""
    db = tmp_path / "gen.sqlite"
    generate(db, 20_000, days=7, end=NOW - timedelta(hours=3), progress=False)
    generate(db, 1_000, days=1 / 24, end=NOW, progress=False)
    rc, out, _ = drift(capsys, db, *WINDOWS, "--max-gap", "30m")
    assert rc == 1
    [gap] = [f for f in out["findings"] if f["kind"] == "recording_gap"]
    assert 2 * 3600 < gap["gap_seconds"] <= 2 * 3600 + 60  # + one row's spacing (30 s)
    rc, out, _ = drift(capsys, db, "--baseline", "8d..1d", "--current", "1d..4h",
                       "--max-gap", "30m")
    assert not [f for f in out["findings"] if f["kind"] == "recording_gap"]


# --- versions -----------------------------------------------------------------------------

def test_version_flag(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == version_line() + "\n"


def test_versions_in_json_and_html(capsys, week: Path, tmp_path: Path) -> None:
    rc, out, _ = drift(capsys, week, *WINDOWS)
    assert rc == 0 and out["dockdrift"] == version_info()
    rc, text, _ = run(capsys, "report", "--db", str(week), "--format", "json")
    assert json.loads(text)["dockdrift"] == version_info()
    for cmd in (["report"], ["drift", *AT, *WINDOWS], ["drift", "history"]):
        html = tmp_path / "out.html"
        run(capsys, *cmd, "--db", str(week), "--format", "html", "-o", str(html))
        assert f"<footer class=\"small meta\">made by {version_line()}</footer>" in html.read_text()
    run(capsys, "drift", "--db", str(week), *AT, *WINDOWS, "--save")
    rc, text, _ = run(capsys, "drift", "history", "--db", str(week), "--format", "json")
    assert json.loads(text)["runs"][0]["dockdrift_version"] == package_version()



# --- the same on PostgreSQL ---------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_url():  # noqa: ANN201
    """A private PostgreSQL (Debian's binaries, trust auth, a unix socket only), stopped after."""
    import glob
    import shutil
    import subprocess

    from conftest import need

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    need(bool(bins) and shutil.which("runuser") is not None, "PostgreSQL is not installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need(False, "psycopg is not installed")
    pg_ctl = Path(bins[-1])
    import tempfile

    # Not under pytest's tmp (0700 root): the postgres user must reach its data directory.
    top = Path(tempfile.mkdtemp(prefix="dd-sched-pg-"))
    top.chmod(0o755)
    (top / "sock").mkdir()
    shutil.chown(top, "postgres")
    shutil.chown(top / "sock", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(pg_ctl.parent / "initdb"), "-D", str(top / "data"), "-A",
                    "trust", "-U", "postgres"], check=True, capture_output=True, timeout=120)
    subprocess.run([*as_pg, str(pg_ctl), "-D", str(top / "data"), "-l", str(top / "log"), "-w",
                    "-o", f"-k {top / 'sock'} -c listen_addresses=''", "start"],
                   check=True, capture_output=True, timeout=120)
    yield f"postgresql+psycopg://postgres@/postgres?host={top / 'sock'}"
    subprocess.run([*as_pg, str(pg_ctl), "-D", str(top / "data"), "-m", "fast", "stop"],
                   capture_output=True, timeout=120)
    shutil.rmtree(top, ignore_errors=True)


def test_exit_3_and_gaps_on_postgresql(capsys, pg_url: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from dockdrift.analysis.drift import gaps
    from dockdrift.analysis.load import Filter

    ensure_schema(make_engine(pg_url), create=True)
    rc, out, err = drift(capsys, pg_url, *WINDOWS)  # an empty store
    assert rc == 3 and [s["scope"] for s in out["insufficient"]] == ["store"]
    steady(pg_url, NOW - timedelta(days=8), NOW - timedelta(hours=10))
    steady(pg_url, NOW - timedelta(hours=7), NOW - timedelta(hours=3))
    rc, out, _ = drift(capsys, pg_url, *WINDOWS, "--max-gap", "1h")
    assert rc == 1
    assert [(g["gap_start"], g["gap_end"]) for g in out["findings"]] == [
        ("2026-11-26T01:55:00", "2026-11-26T05:00:00"), ("2026-11-26T08:55:00", NOW.isoformat())]
    engine = make_engine(pg_url, create=False)
    flt = Filter(since=NOW - timedelta(days=1), until=NOW)
    probed = gaps.recording_gaps(engine, flt, timedelta(hours=1), NOW)
    monkeypatch.setattr(gaps, "MAX_PROBES", 0)
    assert gaps.recording_gaps(engine, flt, timedelta(hours=1), NOW) == probed
    rc, out, err = drift(capsys, pg_url, *WINDOWS, "--recorder", "nobody")
    assert rc == 3 and "matches --recorder nobody" in err
    rc, text, err = run(capsys, "report", "--db", pg_url, "--since", "2026-10-01",
                        "--until", "2026-10-02")
    assert rc == 3 and "holds no exchanges" in err
