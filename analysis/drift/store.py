"""The SQL side of drift: window aggregates, bucketed timelines, saved runs (drift_runs).

Everything is GROUP BY in the database; only one row per (route, code[, bucket]) reaches pandas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, Integer, and_, cast, desc, func, insert, or_, select
from sqlalchemy.orm import Session

from dockdrift.analysis.compare import UNKNOWN_TARGET
from dockdrift.analysis.load import Filter, observed_and_failed, time_bounds
from dockdrift.db.models import DriftRun, Exchange

# Candidate bucket sizes (seconds) for timelines: the smallest giving at most MAX_BUCKETS.
BUCKETS = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
           7 * 86400, 30 * 86400]
MAX_BUCKETS = 60
EVERYTHING = Filter()  # no filter but the window's time range


@dataclass(frozen=True)
class Window:
    """One side of a comparison: which database and which time range (None: open)."""

    db: str
    start: datetime | None
    end: datetime | None
    recorders: tuple[str, ...] = ()  # only these recorders' exchanges; () = all


def window_filter(w: Window, base: Filter = EVERYTHING) -> Filter:
    """The window's time range (and recorders) on top of `base` (target, method, route)."""
    return replace(base, since=w.start, until=w.end, recorders=w.recorders or base.recorders)


def window_aggregates(engine: Engine, w: Window,
                      base: Filter = EVERYTHING) -> tuple[pd.DataFrame, int]:
    """Answered exchanges per (target, method, route, handler, api_version, status_code)
    and the window's proxy-side failures, from one scan of its rows."""
    return observed_and_failed(engine, window_filter(w, base))


def window_info(engine: Engine, w: Window, observed: pd.DataFrame | None = None,
                failures: int | None = None, base: Filter = EVERYTHING) -> dict[str, object]:
    """The JSON description of a window: bounds, first/last exchange, counts.

    Pass the window's `window_aggregates` when you have them: the counts are then free and
    first/last cost two index lookups.
    """
    flt = window_filter(w, base)
    if observed is None or failures is None:
        observed, failures = window_aggregates(engine, w, base)
    answered = int(observed["count"].sum())
    first, last = time_bounds(engine, flt) if answered + failures else (None, None)
    iso = lambda t: t.isoformat(timespec="seconds") if t else None  # noqa: E731
    return {"db": w.db, "start": iso(w.start), "end": iso(w.end), "first": iso(first),
            "last": iso(last), "n_exchanges": answered + failures, "n_answered": answered,
            "n_proxy_failures": failures, "recorders": list(w.recorders)}


def choose_bucket(span_seconds: float) -> int:
    """A round bucket size that cuts the span into at most MAX_BUCKETS pieces."""
    for size in BUCKETS:
        if span_seconds / size <= MAX_BUCKETS:
            return size
    return BUCKETS[-1]


def _bucket_expr(engine: Engine, origin: datetime, size: int):  # noqa: ANN202
    """Bucket index of started_at: SQLite via julianday arithmetic, PostgreSQL via epoch."""
    if engine.dialect.name == "sqlite":
        seconds = (func.julianday(Exchange.started_at) - func.julianday(origin)) * 86400.0
    elif engine.dialect.name == "postgresql":
        seconds = func.extract("epoch", Exchange.started_at - origin)
    else:
        raise NotImplementedError(f"timelines need SQLite or PostgreSQL, not {engine.dialect.name}")
    if engine.dialect.name == "sqlite":
        return cast(seconds / size, Integer)  # truncates toward zero; seconds >= 0 here
    return cast(func.floor(seconds / size), Integer)


def _route_condition(keys: list[tuple[str, str, str]]):  # noqa: ANN202
    conds = []
    for target, method, route in keys:
        t = Exchange.target.is_(None) if target == UNKNOWN_TARGET else Exchange.target == target
        conds.append(and_(t, Exchange.method == method, Exchange.route == route))
    return or_(*conds)


def timeline(engine: Engine, keys: list[tuple[str, str, str]], start: datetime, end: datetime,
             size: int, recorders: tuple[str, ...] = ()) -> pd.DataFrame:
    """Answered exchanges per (time bucket, target, method, route, status_code) for some routes
    (of these recorders when given, as `drift --recorder` compared them).

    `bucket` is the bucket's start time (start + k * size seconds).
    """
    cols = ["bucket", "target", "method", "route", "status_code", "count"]
    if not keys:
        return pd.DataFrame(columns=cols)
    b = _bucket_expr(engine, start, size).label("b")
    stmt = (select(b, Exchange.target, Exchange.method, Exchange.route, Exchange.status_code,
                   func.count())
            .where(Exchange.started_at >= start, Exchange.started_at < end,
                   Exchange.status_code.is_not(None), _route_condition(keys),
                   *Filter(recorders=recorders).where())
            .group_by(b, Exchange.target, Exchange.method, Exchange.route, Exchange.status_code))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=cols)
    df["bucket"] = pd.to_datetime(start) + pd.to_timedelta(df["bucket"].astype("int64") * size,
                                                           unit="s")
    df["target"] = df["target"].fillna(UNKNOWN_TARGET)
    return df


def save_run(engine: Engine, baseline: Window, current: Window, findings: list[dict],
             params: dict[str, object], created_at: datetime) -> int:
    """Store one run in drift_runs (with the dockdrift version that made it); returns its id."""
    from dockdrift.db.version import package_version

    row = {"created_at": created_at, "dockdrift_version": package_version(),
           "baseline_start": baseline.start,
           "baseline_end": baseline.end, "current_start": current.start,
           "current_end": current.end, "n_findings": len(findings),
           "findings_json": json.dumps(findings, default=str), "params_json": json.dumps(params)}
    with Session(engine) as s, s.begin():
        return int(s.execute(insert(DriftRun).returning(DriftRun.id), [row]).scalar_one())


def last_run(engine: Engine) -> DriftRun | None:
    """The most recently saved run (by created_at, then id)."""
    with Session(engine) as s:
        return s.scalars(select(DriftRun).order_by(desc(DriftRun.created_at),
                                                   desc(DriftRun.id)).limit(1)).first()


RUN_COLUMNS = ["id", "created_at", "baseline_start", "baseline_end", "current_start",
               "current_end", "n_findings", "findings", "params", "dockdrift_version"]


def runs(engine: Engine, since: datetime | None = None) -> pd.DataFrame:
    """Saved runs, oldest first, findings and params decoded from JSON."""
    stmt = select(DriftRun).order_by(DriftRun.created_at, DriftRun.id)
    if since is not None:
        stmt = stmt.where(DriftRun.created_at >= since)
    with Session(engine) as s:
        rows = [(r.id, r.created_at, r.baseline_start, r.baseline_end, r.current_start,
                 r.current_end, r.n_findings, json.loads(r.findings_json),
                 json.loads(r.params_json or "{}"), r.dockdrift_version)
                for r in s.scalars(stmt)]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
