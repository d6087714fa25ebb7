"""The boundary between the store and pandas: every query here aggregates in SQL (GROUP BY),
so memory follows the number of distinct groups, not the number of exchanges."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Engine, Select, and_, func, or_, select, text, true

from dockdrift.analysis.filter import Filter as Filter  # its old import path
from dockdrift.db.models import DENIED_OR_DRY_RUN, DocumentedCode, Exchange, Rollup

if TYPE_CHECKING:
    import pandas as pd

OBSERVED_COLUMNS = ["target", "method", "route", "handler", "api_version", "status_code", "count"]


def history_parts(engine: Engine, flt: Filter) -> tuple[Filter | None, Filter | None]:
    """Split a window at the end of the pruned history (`dockdrift prune`): (the part only the
    daily rollups hold, the part raw rows hold), either None when the window has none of it.
    Reading both and adding them up counts a window exactly as before the prune (the rollups'
    part in whole days)."""
    from dockdrift.db.rollup import pruned_until

    try:
        end = pruned_until(engine)
    except Exception:  # noqa: BLE001 - a store of an older schema has no rollups
        return None, flt
    if end is None or (flt.since is not None and flt.since >= end):
        return None, flt
    if flt.until is not None and flt.until <= end:
        return flt, None
    return replace(flt, until=end), replace(flt, since=end)


def reads_rollups(engine: Engine, flt: Filter) -> bool:
    """True when (part of) the filter's window lies in pruned history: those counts then come
    from the daily rollups, transparently; callers say so."""
    return history_parts(engine, flt)[0] is not None


def _added(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """One frame of counts from the rollups' part and the raw part of a window."""
    frames = [f for f in frames if not f.empty] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    import pandas as pd

    both = pd.concat(frames, ignore_index=True)
    out = both.groupby(keys, dropna=False, sort=False, as_index=False)["count"].sum()
    out["count"] = out["count"].astype("int64")
    return out


def _frame(engine: Engine, stmt: Select, columns: list[str]) -> pd.DataFrame:
    """Rows -> DataFrame. pandas is imported only now, after the query: a caller can run the
    query in a thread while the main thread imports pandas (SQLite releases the GIL)."""
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def observed_counts(engine: Engine, flt: Filter = Filter()) -> pd.DataFrame:
    """Count of exchanges per (target, method, route, handler, api_version, status_code).

    Only exchanges the server answered (status_code not NULL); unknown routes have route NULL.
    """
    return _grouped(engine, flt, answered_only=True)


def observed_and_failed(engine: Engine, flt: Filter = Filter()) -> tuple[pd.DataFrame, int]:
    """`observed_counts` and the number of proxy-side failures, from one scan of the rows
    (a window's failures counted apart would walk its range of the time index again)."""
    df = _grouped(engine, flt, answered_only=False)
    failed = df["status_code"].isna()
    out = df[~failed].reset_index(drop=True)
    if failed.any():  # the NULL groups made the column float: back to integer codes
        out["status_code"] = out["status_code"].astype("int64")
    return out, int(df.loc[failed, "count"].sum())


def _grouped(engine: Engine, flt: Filter, *, answered_only: bool) -> pd.DataFrame:
    old, new = history_parts(engine, flt)
    frames = []
    if old is not None:
        rcols = [Rollup.target, Rollup.method, Rollup.route, Rollup.handler, Rollup.api_version,
                 Rollup.status_code]
        rcond = Rollup.status_code.is_not(None) if answered_only else true()
        not_denied = or_(Rollup.outcome.is_(None), Rollup.outcome != "denied")  # db.rollup
        stmt = (select(*rcols, func.sum(Rollup.count).label("count"))
                .where(and_(rcond, not_denied, *old.where(Rollup))).group_by(*rcols))
        df = _frame(engine, stmt, OBSERVED_COLUMNS)
        df["count"] = df["count"].astype("int64")
        frames.append(df)
    if new is not None:
        cols = [Exchange.target, Exchange.method, Exchange.route, Exchange.handler,
                Exchange.api_version, Exchange.status_code]
        cond: ColumnElement[bool] = (Exchange.status_code.is_not(None) if answered_only
                                     else true())
        stmt = (select(*cols, func.count().label("count"))
                .where(and_(cond, *new.where()))
                .group_by(*cols))
        df = _frame(engine, stmt, OBSERVED_COLUMNS)
        df["count"] = df["count"].astype("int64")
        frames.append(_without_denied(engine, df, cols, and_(cond, *new.where())))
    return _added(frames, OBSERVED_COLUMNS[:-1])


def _allowlist_rows() -> ColumnElement[bool]:
    """Rows an allowlist refused or would have refused: ix_exchanges_denied's WHERE."""
    return text(DENIED_OR_DRY_RUN)  # type: ignore[return-value]


def _without_denied(engine: Engine, df: pd.DataFrame, cols: list, where: ColumnElement[bool]
                    ) -> pd.DataFrame:
    """Take the rows an allowlist refused (their 403 is dockdrift's, not the server's) out of
    the groups. Counted apart through the small partial index, so the main GROUP BY keeps
    reading its covering index."""
    stmt = (select(*cols, func.count().label("count"))
            .where(and_(_allowlist_rows(), Exchange.denied == True, where))  # noqa: E712
            .group_by(*cols))
    denied = _frame(engine, stmt, OBSERVED_COLUMNS)
    if denied.empty:
        return df
    keys = OBSERVED_COLUMNS[:-1]
    out = df.merge(denied, on=keys, how="left", suffixes=("", "_denied"))
    out["count"] = out["count"] - out.pop("count_denied").fillna(0).astype("int64")
    return out[out["count"] > 0].reset_index(drop=True)


def releases(engine: Engine, flt: Filter, target: str) -> list[str]:
    """The releases (target_version) of one target kind in the window, at most two: the
    report's aggregate has no target_version (its covering index has none), and Podman's
    tables are per release. Reads only that kind's rows."""
    model = Rollup if reads_rollups(engine, flt) else Exchange
    stmt = (select(model.target_version).distinct()
            .where(and_(model.target == target, model.target_version.is_not(None),
                        *flt.where(model))).limit(2))
    with engine.connect() as conn:
        return [str(v) for v in conn.scalars(stmt)]


def proxy_failures(engine: Engine, flt: Filter = Filter()) -> pd.DataFrame:
    """Exchanges that failed on the proxy's side (no server status), per route and error."""
    old, new = history_parts(engine, flt)
    frames = []
    if old is not None:  # rollups keep the count, not the error text
        rcols = [Rollup.target, Rollup.method, Rollup.route]
        stmt = (select(*rcols, func.sum(Rollup.count))
                .where(and_(Rollup.status_code.is_(None), *old.where(Rollup)))
                .group_by(*rcols))
        df = _frame(engine, stmt, ["target", "method", "route", "count"])
        df.insert(3, "error", "(error text not kept in rollups)")
        frames.append(df)
    if new is not None:
        cols = [Exchange.target, Exchange.method, Exchange.route, Exchange.error]
        stmt = (select(*cols, func.count().label("count"))
                .where(and_(Exchange.status_code.is_(None), Exchange.denied.is_not(True),
                            *new.where()))
                .group_by(*cols))
        frames.append(_frame(engine, stmt, ["target", "method", "route", "error", "count"]))
    return _added(frames, ["target", "method", "route", "error"])


def unknown_routes(engine: Engine, flt: Filter = Filter(), examples: int = 3) -> pd.DataFrame:
    """Requests no table knows, per (target, method, status), with a few example raw paths."""
    old, new = history_parts(engine, flt)
    frames = []
    if old is not None:  # rollups keep the count, not the paths
        rcols = [Rollup.target, Rollup.method, Rollup.status_code]
        stmt = (select(*rcols, func.sum(Rollup.count))
                .where(and_(Rollup.route.is_(None), *old.where(Rollup))).group_by(*rcols))
        df = _frame(engine, stmt, ["target", "method", "status_code", "count"])
        df["examples"] = [[] for _ in range(len(df))]
        frames.append(df)
    if new is not None:
        cols = [Exchange.target, Exchange.method, Exchange.status_code]
        stmt = (select(*cols, func.count().label("count"), func.min(Exchange.path),
                       func.max(Exchange.path))
                .where(and_(Exchange.route.is_(None), Exchange.denied.is_not(True),
                            *new.where()))
                .group_by(*cols))
        df = _frame(engine, stmt, ["target", "method", "status_code", "count", "first", "last"])
        df["examples"] = [sorted({a, b})[:examples]
                          for a, b in zip(df.pop("first"), df.pop("last"), strict=True)]
        frames.append(df)
    keys = ["target", "method", "status_code"]
    out = _added(frames, keys)
    if "examples" not in out:  # both parts had rows: the raw part's examples are the ones
        have = {tuple(r[k] for k in keys): r["examples"] for f in frames
                for r in f.to_dict("records") if r["examples"]}
        out["examples"] = [have.get(tuple(r[k] for k in keys), [])
                           for r in out.to_dict("records")]
    return out


def denied_requests(engine: Engine, flt: Filter = Filter()) -> pd.DataFrame:
    """Who asked for what an allowlist refused (`dry_run`: would have refused), how often."""
    dry = Exchange.denied.is_not(True)
    cols = [Exchange.user_agent, Exchange.client, Exchange.method, Exchange.route, dry]
    stmt = (select(*cols, func.count(), func.max(Exchange.started_at))
            .where(and_(_allowlist_rows(), *flt.where())).group_by(*cols))
    df = _frame(engine, stmt, ["user_agent", "client", "method", "route", "dry_run", "count",
                               "last"])
    df["dry_run"] = df["dry_run"].astype(bool)
    return df.sort_values(["count", "method", "route", "dry_run"],
                          ascending=[False, True, True, True], ignore_index=True)


def time_span(engine: Engine, flt: Filter = Filter()) -> tuple[datetime | None, datetime | None, int]:
    """(first, last, n) of the exchanges the filter selects.

    The count walks every selected row; callers that already hold the counts (report, drift:
    answered + proxy failures) use `time_bounds` alone, which is O(log n) on the time index.
    """
    old, new = history_parts(engine, flt)
    n = 0
    with engine.connect() as conn:
        if new is not None:
            n += int(conn.execute(select(func.count()).where(and_(true(), *new.where())))
                     .scalar_one())
        if old is not None:
            n += int(conn.execute(select(func.coalesce(func.sum(Rollup.count), 0))
                                  .where(and_(*old.where(Rollup)))).scalar_one())
    first, last = time_bounds(engine, flt) if n else (None, None)
    return first, last, n


def time_bounds(engine: Engine, flt: Filter = Filter()) -> tuple[datetime | None, datetime | None]:
    """(first, last) started_at of the selected exchanges: two ORDER BY ... LIMIT 1 queries that
    read one end of ix_exchanges_time_groups each (min and max in one query scan everything).
    The pruned part of a window answers in whole days, from the rollups."""
    old, new = history_parts(engine, flt)
    lo = hi = None
    if new is not None:
        base = select(Exchange.started_at).where(and_(true(), *new.where())).limit(1)
        with engine.connect() as conn:
            lo = _dt(conn.execute(base.order_by(Exchange.started_at)).scalar())
            hi = _dt(conn.execute(base.order_by(Exchange.started_at.desc())).scalar())
    if old is not None:
        stmt = select(func.min(Rollup.day), func.max(Rollup.day)).where(and_(*old.where(Rollup)))
        with engine.connect() as conn:
            r_lo, r_hi = (_dt(v) for v in conn.execute(stmt).one())
        lo = r_lo or lo
        if hi is None and r_hi is not None:
            hi = r_hi + timedelta(days=1) - timedelta(microseconds=1)
    return lo, hi


def _dt(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def documented_codes(engine: Engine, source: str | None = None,
                     api_version: str | None = None) -> pd.DataFrame:
    """The documented tables as loaded in the store (db.documented.sync_documented)."""
    cols = [DocumentedCode.source, DocumentedCode.api_version, DocumentedCode.target,
            DocumentedCode.method, DocumentedCode.route, DocumentedCode.handler,
            DocumentedCode.operation_id, DocumentedCode.status_code, DocumentedCode.absent]
    stmt = select(*cols)
    if source:
        stmt = stmt.where(DocumentedCode.source == source)
    if api_version:
        stmt = stmt.where(DocumentedCode.api_version == api_version)
    return _frame(engine, stmt, ["source", "api_version", "target", "method", "route",
                                 "handler", "operation_id", "status_code", "absent"])


def dimension_values(engine: Engine, flt: Filter, name: str) -> list[str | None]:
    """The values of one dimension (db.dimensions) among the exchanges the filter selects,
    sorted, by a GROUP BY (never a row scan in Python); None: rows that carry none (e.g.
    stores recorded before recorders had names). An implementation is its label."""
    from dockdrift.db.dimensions import DIMENSIONS
    from dockdrift.db.implementations import implementation_label

    keys = DIMENSIONS[name].keys()[:3 if name == "implementation" else 1]
    stmt = (select(*keys).where(and_(true(), *flt.where())).group_by(*keys).order_by(*keys))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    if name == "implementation":
        return sorted({implementation_label(t, v, floor) for t, v, floor in rows})
    return [r[0] for r in rows]
