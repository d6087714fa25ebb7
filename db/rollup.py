"""History for years: daily rollups of the exchanges, and pruning raw rows they cover.

`rollup` counts every complete day (UTC) into `exchange_rollups`, one INSERT ... SELECT ...
GROUP BY per day on the time index, and notes in `rollup_days` how many raw rows it counted.
`prune` deletes a day's raw rows only when that count still equals the raw rows there (so a
late row is never lost: the day is rolled up again first), in the same transaction that marks
the day pruned. Raw rows that arrive later for a pruned day (a capture shipped late) are
counted into the rollups and deleted together. SQL both SQLite and PostgreSQL run; only the
day expression differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from dockdrift.db.dimensions import DIMENSIONS, outcome_expr
from dockdrift.db.models import Exchange, Rollup, RollupDay

DAY = timedelta(days=1)
# The declared dimensions' rollup columns (db.dimensions: recorder, implementation = target,
# target_version, min_api_version; method, route), then the answer's columns.
GROUP_COLUMNS = [*DIMENSIONS["recorder"].rollup, *DIMENSIONS["implementation"].rollup,
                 *DIMENSIONS["method"].rollup, *DIMENSIONS["route"].rollup,
                 "handler", "api_version", "status_code"]


@dataclass
class RollupResult:
    days: list[datetime] = field(default_factory=list)
    rows: int = 0  # raw rows counted (again) this run


@dataclass
class PruneResult:
    days: list[datetime] = field(default_factory=list)
    rows: int = 0  # raw rows deleted


def day_start(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _day_expr(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return func.date_trunc("day", Exchange.started_at)
    return func.datetime(func.date(Exchange.started_at))


def _raw_days(conn: Connection, before: datetime) -> dict[datetime, int]:
    day = _day_expr(conn)
    rows = conn.execute(select(day, func.count()).where(Exchange.started_at < before)
                        .group_by(day)).all()
    return {_as_dt(d): int(n) for d, n in rows}


def _as_dt(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return cast(datetime, value).replace(tzinfo=None)


def _count_day(conn: Connection, day: datetime) -> int:
    """INSERT the day's group counts into the rollups; returns the raw rows counted."""
    cols = [getattr(Exchange, c) for c in GROUP_COLUMNS]
    outcome = outcome_expr()
    in_day = and_(Exchange.started_at >= day, Exchange.started_at < day + DAY)
    agg = (select(literal(day).label("day"), *cols, outcome.label("outcome"),
                  func.count().label("count"))
           .where(in_day).group_by(*cols, outcome))
    target = cast(Table, Rollup.__table__)
    conn.execute(insert(target).from_select(["day", *GROUP_COLUMNS, "outcome", "count"], agg))
    return int(conn.scalar(select(func.coalesce(func.sum(target.c["count"]), 0))
                           .where(target.c.day == day)) or 0)


def rollup(engine: Engine, *, now: datetime | None = None) -> RollupResult:
    """Roll up every complete day before today (UTC) that is new or changed since."""
    today = day_start(now or datetime.utcnow())
    result = RollupResult()
    with engine.connect() as conn:
        raw = _raw_days(conn, today)
        known = {_as_dt(d): (n, p) for d, n, p in conn.execute(
            select(RollupDay.day, RollupDay.raw_rows, RollupDay.pruned))}
    for day, n in sorted(raw.items()):
        recorded = known.get(day)
        if recorded is not None and not recorded[1] and recorded[0] == n:
            continue  # rolled up already, nothing new
        with engine.begin() as conn:
            _roll_day(conn, day, pruned=bool(recorded and recorded[1]), new=recorded is None)
        result.days.append(day)
        result.rows += n
    return result


def _roll_day(conn: Connection, day: datetime, *, pruned: bool, new: bool) -> None:
    rollups, days = cast(Table, Rollup.__table__), cast(Table, RollupDay.__table__)
    in_day = and_(Exchange.started_at >= day, Exchange.started_at < day + DAY)
    if pruned:
        # late rows for a day whose raw rows are gone: add their counts, then drop them too
        before = int(conn.scalar(select(func.coalesce(func.sum(rollups.c["count"]), 0))
                                 .where(rollups.c.day == day)) or 0)
        total = _count_day(conn, day)
        conn.execute(delete(Exchange).where(in_day))
        conn.execute(update(days).where(days.c.day == day)
                     .values(raw_rows=days.c.raw_rows + (total - before)))
        return
    conn.execute(delete(rollups).where(rollups.c.day == day))
    total = _count_day(conn, day)
    if new:
        conn.execute(insert(days).values(day=day, raw_rows=total, pruned=False))
    else:
        conn.execute(update(days).where(days.c.day == day).values(raw_rows=total))


def prune(engine: Engine, before: datetime, *, now: datetime | None = None) -> PruneResult:
    """Delete raw rows of the complete days before `before` that the rollups cover."""
    today = day_start(now or datetime.utcnow())
    cutoff = min(day_start(before), today)
    rollup(engine, now=now)
    result = PruneResult()
    days = cast(Table, RollupDay.__table__)
    with engine.connect() as conn:
        candidates = sorted(_as_dt(d) for d in conn.scalars(
            select(RollupDay.day).where(RollupDay.day < cutoff, RollupDay.pruned.is_(False))))
    for day in candidates:
        in_day = and_(Exchange.started_at >= day, Exchange.started_at < day + DAY)
        with engine.begin() as conn:
            recorded = conn.scalar(select(days.c.raw_rows).where(days.c.day == day))
            raw = int(conn.scalar(select(func.count()).where(in_day)) or 0)
            if raw != recorded:
                _roll_day(conn, day, pruned=False, new=False)  # a late row: count it first
            deleted = conn.execute(delete(Exchange).where(in_day)).rowcount or 0
            conn.execute(update(days).where(days.c.day == day).values(pruned=True))
        result.days.append(day)
        result.rows += int(deleted)
    return result


def pruned_until(engine: Engine) -> datetime | None:
    """The end of the history only the rollups hold (the day after the last pruned day)."""
    with engine.connect() as conn:
        last = conn.scalar(select(func.max(RollupDay.day)).where(RollupDay.pruned.is_(True)))
    return _as_dt(last) + DAY if last is not None else None
