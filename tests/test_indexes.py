"""Indexes of `exchanges`: existing stores are brought up to db.models, and the report's and
drift's queries use them (query plans, not timings: those live in benchmarks/)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, event, insert

from dockdrift.analysis import load
from dockdrift.db.engine import OBSOLETE_INDEXES, make_engine, update_indexes
from dockdrift.db.models import Exchange

NEW = ("ix_exchanges_groups", "ix_exchanges_time_groups", "ix_exchanges_unknown",
       "ix_exchanges_failed")
T0 = datetime(2026, 11, 1)
DENIED = "USING INDEX ix_exchanges_denied"  # allowlist rows (analysis.load._without_denied)


def _rows(n: int = 400) -> list[dict]:
    """Answered, unknown-route and proxy-failed exchanges spread over 4 days."""
    out = []
    for i in range(n):
        unknown, failed = i % 17 == 0, i % 29 == 0
        out.append({"started_at": T0 + timedelta(minutes=15 * i), "method": "GET",
                    "path": f"/v1.41/containers/c{i % 7}/{'nonsense' if unknown else 'json'}",
                    "api_version": "1.41", "route": None if unknown else "/containers/{name:.*}/json",
                    "handler": None if unknown else "getContainersByName",
                    "status_code": None if failed else (404 if i % 5 == 0 else 200),
                    "error": "Server connection failed" if failed else None,
                    "target": "swarm" if i % 3 == 0 else "engine", "hijacked": False})
    return out


def _index_names(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' "
                                           "AND tbl_name='exchanges' AND sql IS NOT NULL")}


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A store as an earlier dockdrift left it: the obsolete indexes, none of the new ones."""
    db = tmp_path / "old.sqlite"
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(insert(Exchange), _rows())
    engine.dispose()
    with sqlite3.connect(db) as conn:
        for name in NEW:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("CREATE INDEX ix_exchanges_route_status ON exchanges (route, status_code)")
        conn.execute("CREATE INDEX ix_exchanges_time_route ON exchanges (started_at, route)")
        conn.execute("CREATE INDEX ix_exchanges_started_at ON exchanges (started_at)")
    return db


def test_opening_an_old_store_updates_its_indexes(old_store: Path) -> None:
    engine = make_engine(old_store, create=False)
    engine.dispose()
    names = _index_names(old_store)
    assert set(NEW) <= names
    assert not names & set(OBSOLETE_INDEXES)


def test_update_is_idempotent_and_readonly_opens_leave_the_store_alone(old_store: Path) -> None:
    make_engine(old_store, readonly=True).dispose()
    assert not _index_names(old_store) & set(NEW)  # read-only: nothing written
    engine = make_engine(old_store, create=False)
    assert update_indexes(engine) == []  # already up to date: no DDL
    engine.dispose()


def test_results_do_not_depend_on_the_indexes(old_store: Path, tmp_path: Path) -> None:
    old = make_engine(f"sqlite:///file:{old_store}?mode=ro&uri=true", readonly=True)
    new_db = tmp_path / "new.sqlite"
    new = make_engine(new_db)
    with new.begin() as conn:
        conn.execute(insert(Exchange), _rows())
    for flt in (load.Filter(), load.Filter(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)),
                load.Filter(target="engine")):
        for query in (load.observed_counts, load.unknown_routes, load.proxy_failures):
            pd.testing.assert_frame_equal(query(old, flt), query(new, flt))
        assert load.time_span(old, flt) == load.time_span(new, flt)
        observed, failed = load.observed_and_failed(new, flt)
        pd.testing.assert_frame_equal(observed, load.observed_counts(new, flt))
        assert failed == int(load.proxy_failures(new, flt)["count"].sum())
    first, last, n = load.time_span(new, load.Filter(since=T0 + timedelta(days=1)))
    assert (first, n) == (T0 + timedelta(days=1), 400 - 96)
    assert last == T0 + timedelta(minutes=15 * 399)
    assert load.time_span(new, load.Filter(since=T0 + timedelta(days=30))) == (None, None, 0)
    old.dispose()
    new.dispose()


def _plans(engine: Engine, fn, *args) -> list[str]:  # noqa: ANN001
    """The query plans of every SELECT on `exchanges` that `fn` runs (the look at
    rollup_days, whether a window lies in pruned history, is one row of a tiny table)."""
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "FROM exchanges" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        fn(engine, *args)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return ["\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + s, p))
                    for s, p in seen]
        return [" / ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p))
                for s, p in seen]


@pytest.mark.parametrize("fn,index", [
    (load.unknown_routes, "ix_exchanges_unknown"),
    (load.proxy_failures, "ix_exchanges_failed"),
    (load.time_bounds, "COVERING INDEX ix_exchanges_time_groups"),
    (load.observed_counts, "COVERING INDEX ix_exchanges_groups"),
])
def test_report_queries_read_an_index_not_the_table(tmp_path: Path, fn, index: str) -> None:  # noqa: ANN001
    engine = make_engine(tmp_path / "s.sqlite")
    with engine.begin() as conn:
        conn.execute(insert(Exchange), _rows())
    plans = _plans(engine, fn, load.Filter())
    # the rows an allowlist refused are counted apart, through their small partial index
    assert plans and all(index in p or DENIED in p for p in plans), plans
    engine.dispose()


def test_window_queries_search_a_range_of_the_time_index(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "s.sqlite")
    flt = load.Filter(since=T0 + timedelta(days=1), until=T0 + timedelta(days=2))
    for fn in (load.observed_and_failed, load.time_bounds):
        plans = _plans(engine, fn, flt)
        assert plans and all("SEARCH" in p and "ix_exchanges_time_groups" in p or DENIED in p
                             for p in plans), plans
    engine.dispose()


PARTIAL = ("ix_exchanges_unknown", "ix_exchanges_failed", "ix_exchanges_streams",
           "ix_exchanges_exits", "ix_exchanges_denied")


def _pg_indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'exchanges'")}


def test_postgresql_stores_get_the_partial_indexes_and_use_them(pg_store: str) -> None:
    """On PostgreSQL the report's side queries (unknown routes, proxy failures, outcomes,
    denials) read the same small partial indexes as on SQLite, not the whole table: at 10M
    rows each was a 1.3-1.7 s scan (benchmarks/README.md). New stores are made with them;
    a store made before them gains them when it is next opened for writing."""
    engine = make_engine(pg_store)
    assert set(PARTIAL) <= _pg_indexes(engine)
    rows = _rows(20000)
    with engine.begin() as conn:
        conn.execute(insert(Exchange), rows)
        for name in PARTIAL:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    engine.dispose()
    engine = make_engine(pg_store)
    assert set(PARTIAL) <= _pg_indexes(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE exchanges")
    for fn, index in ((load.unknown_routes, "ix_exchanges_unknown"),
                      (load.proxy_failures, "ix_exchanges_failed")):
        plans = _plans(engine, fn, load.Filter())
        assert plans and all("ix_exchanges_" in p and "Seq Scan" not in p for p in plans), plans
        assert any(index in p for p in plans), plans
    engine.dispose()
