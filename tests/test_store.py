"""The store: engine factory errors, migration, and the batch writer thread."""

from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dockdrift.db.engine import StoreError, make_engine
from dockdrift.db.models import Exchange
from dockdrift.db.writer import BatchWriter


def row(i: int = 0) -> dict:
    return {"started_at": datetime(2026, 1, 1), "method": "GET", "path": f"/p{i}",
            "status_code": 200, "hijacked": False}


def count(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(Exchange)).scalar_one()


def test_new_store_is_private_and_wal(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite"
    engine = make_engine(db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("setup,message", [
    (lambda p: p.write_bytes(b"\x00garbage" * 200), "not a readable SQLite database"),
    (lambda p: sqlite3.connect(p).execute("create table t(x)").connection.commit(),
     "not a dockdrift database"),
])
def test_corrupt_or_foreign_files_are_refused(tmp_path: Path, setup, message: str) -> None:
    db = tmp_path / "bad.sqlite"
    setup(db)
    with pytest.raises(StoreError, match=message):
        make_engine(db)


def test_missing_store_is_an_error_when_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        make_engine(tmp_path / "nope.sqlite", create=False)
    with pytest.raises(StoreError, match="directory .* does not exist"):
        make_engine(tmp_path / "no-dir" / "x.sqlite")
    with pytest.raises(StoreError, match="bad database URL|cannot open"):
        make_engine("nosuch://x")


def test_old_schema_is_migrated_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table exchanges (id integer primary key, started_at datetime, "
                "method varchar, path text, api_version varchar, route varchar, handler varchar, "
                "status_code integer, error text, target varchar)")
    con.execute("insert into exchanges (started_at, method, path, status_code) "
                "values ('2026-01-01 00:00:00', 'GET', '/_ping', 200)")
    con.commit()
    con.close()
    engine = make_engine(db)
    with engine.connect() as c:
        cols = {r[1] for r in c.exec_driver_sql("PRAGMA table_info(exchanges)")}
        version = c.exec_driver_sql(
            "select value from dockdrift_meta where key='schema_version'").scalar()
    assert {"user_agent", "hijacked", "error_message", "client"} <= cols and version == "3"
    assert {"target_version", "probe_case", "stream_error", "exit_code", "recorder"} <= cols
    assert count(engine) == 1


def test_schema1_store_is_migrated_to_schema2(tmp_path: Path) -> None:
    """A store written by dockdrift 0.1 (schema 1) gains the schema 2 columns in place."""
    db = tmp_path / "v1.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table exchanges (id integer primary key, started_at datetime, "
                "method varchar, path text, query text, api_version varchar, route varchar, "
                "handler varchar, route_source varchar, status_code integer, error text, "
                "error_message varchar, duration_ms float, request_bytes integer, "
                "response_bytes integer, hijacked boolean, user_agent varchar, server varchar, "
                "target varchar, client varchar)")
    con.execute("create table drift_runs (id integer primary key, created_at datetime, "
                "baseline_start datetime, baseline_end datetime, current_start datetime, "
                "current_end datetime, n_findings integer, findings_json text, params_json text)")
    con.execute("create table dockdrift_meta (key varchar primary key, value text)")
    con.execute("insert into dockdrift_meta values ('schema_version', '1')")
    con.execute("insert into exchanges (started_at, method, path, status_code, target, server) "
                "values ('2026-01-01 00:00:00', 'GET', '/_ping', 200, 'engine', "
                "'Docker/20.10.24+dfsg1 (linux)')")
    con.commit()
    con.close()
    engine = make_engine(db)
    with engine.connect() as c:
        cols = {r[1] for r in c.exec_driver_sql("PRAGMA table_info(exchanges)")}
        runs = {r[1] for r in c.exec_driver_sql("PRAGMA table_info(drift_runs)")}
        version = c.exec_driver_sql(
            "select value from dockdrift_meta where key='schema_version'").scalar()
        row = c.exec_driver_sql("select target, target_version, denied from exchanges").one()
    assert {"target_version", "probe_case", "stream_error", "stream_error_count", "exit_code",
            "recorder", "denied"} <= cols
    assert "dockdrift_version" in runs and version == "3"
    assert tuple(row) == ("engine", None, 0)
    assert {"min_api_version", "request_shape", "response_shape", "client_name",
            "client_version", "peer_pid", "peer_uid", "peer_process", "peer_exe"} <= cols


def test_writer_flushes_batches_and_closes_twice(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "w.sqlite")
    w = BatchWriter(engine, batch_size=7)
    for i in range(100):
        assert w.submit(row(i))
    assert w.flush(10)
    assert count(engine) == 100 and w.written == 100
    w.close()
    w.close()


def test_writer_waits_out_a_locked_store(tmp_path: Path) -> None:
    """A long exclusive lock delays writes; rows wait, nothing is lost."""
    db = tmp_path / "l.sqlite"
    engine = make_engine(db)
    errors: list[str] = []
    w = BatchWriter(engine, retry_seconds=0.05, on_error=errors.append)
    w.engine.pool.dispose()
    blocker = sqlite3.connect(db, timeout=0, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(6.0, lambda: blocker.execute("COMMIT"))
    release.start()
    for i in range(50):
        w.submit(row(i))
    assert w.flush(60)
    release.join()
    assert count(engine) == 50
    assert any("locked" in e for e in errors)  # said loudly while it waited
    w.close()


def test_writer_refuses_loudly_when_the_queue_is_full(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "q.sqlite")
    errors: list[str] = []
    gate = threading.Event()
    w = BatchWriter(engine, max_queue=5, on_error=errors.append)
    original = w._write
    w._write = lambda batch, give_up_after: (gate.wait(10), original(batch, give_up_after))
    accepted = sum(w.submit(row(i)) for i in range(20))
    gate.set()
    w.flush(10)
    assert w.dropped == 20 - accepted > 0
    assert errors and "NOT recorded" in errors[0]
    assert count(engine) == accepted
    w.close()
