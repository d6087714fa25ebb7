"""Recording gaps: stretches of a window with no exchanges, found in SQL.

A recorder that died, a proxy nobody routes through any more, or a window typed wrong all look
like "no drift" to the statistics: `dockdrift drift --max-gap 1h` reports them as findings of
kind `recording_gap` instead.

Two plans, the same answer. Usually the window is walked with index probes: "the last exchange
in (t, t + max_gap]" jumps up to max_gap at a time, and only where none exists is there a gap
(its end: the first exchange after it), so a day checked for hour-long gaps costs about 24
lookups on the time index, whatever the number of rows (28 days of 1M rows for 1h gaps:
0.55 s). When that would take more than MAX_PROBES lookups (a month checked for one-minute
gaps), one pass of LAG(started_at) over the time index finds them instead (SQLite >= 3.25 and
PostgreSQL): 13-17 s per million rows on SQLite on this loaded machine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, Float, and_, bindparam, cast, func, select, true

from dockdrift.analysis.load import Filter, _dt, time_bounds
from dockdrift.db.models import Exchange

MAX_REPORTED = 5  # the longest gaps of a window; a dead recorder makes one, a flaky one many
# window / max_gap above this: the LAG scan instead of index probes. A probe costs ~0.1-0.5 ms,
# LAG ~13 us per row (measured on 1M rows, a loaded 2-core machine): 2000 probes stay < 1 s.
MAX_PROBES = 2_000


def _seconds_between(engine: Engine, later, earlier):  # noqa: ANN001, ANN202
    """SQL for `later - earlier` in seconds on the two dialects dockdrift runs on."""
    if engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    if engine.dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    raise NotImplementedError(f"gap checks need SQLite or PostgreSQL, not {engine.dialect.name}")


def inner_gaps(engine: Engine, flt: Filter, longer_than: timedelta,
               limit: int = MAX_REPORTED) -> list[tuple[datetime, datetime]]:
    """(last exchange before, first exchange after) of the longest gaps between consecutive
    exchanges the filter selects, longest first; only gaps longer than `longer_than`."""
    t = Exchange.started_at
    lagged = (select(t.label("t"), func.lag(t).over(order_by=t).label("prev"))
              .where(and_(true(), *flt.where())).subquery())
    gap = _seconds_between(engine, lagged.c.t, lagged.c.prev)
    stmt = (select(lagged.c.prev, lagged.c.t)
            .where(lagged.c.prev.is_not(None), gap > longer_than.total_seconds())
            .order_by(gap.desc()).limit(limit))
    with engine.connect() as conn:
        return [(_dt(a), _dt(b)) for a, b in conn.execute(stmt).all()]  # type: ignore[misc]


def _recorded_before(engine: Engine, flt: Filter, when: datetime) -> bool:
    stmt = select(Exchange.started_at).where(Exchange.started_at < when,
                                             *replace(flt, since=None, until=None).where())
    with engine.connect() as conn:
        return conn.execute(stmt.limit(1)).first() is not None


def probed_gaps(engine: Engine, flt: Filter, cursor: datetime, end: datetime,
                max_gap: timedelta) -> list[tuple[datetime, datetime]]:
    """Gaps longer than max_gap from `cursor` (an exchange, or the window's start) to `end`,
    walked with index probes: about (end - cursor) / max_gap + 2 per gap lookups."""
    t = Exchange.started_at
    base = [*replace(flt, since=None, until=None).where(), t < end]
    a, b = bindparam("a"), bindparam("b")
    reach = select(t).where(t > a, t <= b, *base).order_by(t.desc()).limit(1)
    after = select(t).where(t > b, *base).order_by(t).limit(1)
    gaps = []
    with engine.connect() as conn:
        while True:
            step = conn.execute(reach, {"a": cursor, "b": cursor + max_gap}).scalar()
            if step is not None:
                cursor = _dt(step)  # type: ignore[assignment]
                continue
            nxt = _dt(conn.execute(after, {"b": cursor + max_gap}).scalar())
            gaps.append((cursor, nxt or end))
            if nxt is None:
                return gaps
            cursor = nxt


def recording_gaps(engine: Engine, flt: Filter, max_gap: timedelta,
                   now: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches longer than `max_gap` with no exchange in the window `flt` selects
    (`flt.since` .. `flt.until`, the end clipped to `now`), longest first.

    The start edge counts only when the filter recorded something before the window (a
    capture that began inside the window has not stopped); an empty window is one gap from
    its start to its end when something was recorded before it.
    """
    end = min(flt.until, now) if flt.until is not None else now
    first, last = time_bounds(engine, flt)
    before = flt.since is not None and _recorded_before(engine, flt, flt.since)
    start = flt.since if before else first
    if start is None:
        return []
    if (end - start) / max_gap <= MAX_PROBES:
        gaps = probed_gaps(engine, flt, start, end, max_gap)
    else:
        gaps = inner_gaps(engine, flt, max_gap) + [(start, first or end), (last or end, end)]
    found = {(a, b) for a, b in gaps if b - a > max_gap}
    return sorted(found, key=lambda g: (g[0] - g[1], g[0]))[:MAX_REPORTED]


def gap_finding(start: datetime, end: datetime, max_gap: timedelta, flt: Filter,
                window_end: datetime | None, now: datetime) -> dict[str, object]:
    """A `recording_gap` finding in the shape of the others (no route: the whole capture)."""
    stopped = end >= (min(window_end, now) if window_end else now)
    return {"target": flt.target, "method": flt.method, "route": flt.route,
            "kind": "recording_gap", "code": None,
            "gap_start": start.isoformat(timespec="seconds"),
            "gap_end": end.isoformat(timespec="seconds"),
            "gap_seconds": round((end - start).total_seconds(), 3),
            "max_gap_seconds": max_gap.total_seconds(), "recorders": list(flt.recorders),
            "until_end": stopped}
