"""Not enough data to decide: which window, store or filter is empty or too thin, and why.

"No drift" and "every code documented" are claims about data. A window with no exchanges (a
dead recorder, a mistyped window, a filter that matches nothing) supports no claim, so report,
drift and matrix say so and exit 3 instead of 0 (`--allow-empty` accepts it). The messages
name the cause: an empty store, a filter nothing matches (with what was recorded), a window
outside the recorded time range, or a window below `min_total` answered exchanges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from dockdrift.analysis.load import Filter, time_bounds
from dockdrift.db.models import Exchange

_FLAGS = ("target", "method", "route")


@dataclass(frozen=True)
class Shortfall:
    """One reason the data cannot decide: `scope` is the window (baseline, current, selection)."""

    scope: str
    reason: str
    n_answered: int
    minimum: int

    def to_dict(self) -> dict[str, object]:
        return {"scope": self.scope, "reason": self.reason, "n_answered": self.n_answered,
                "min_total": self.minimum}


def describe_filter(flt: Filter) -> str:
    """`--target swarm --recorder ci-1`, or '' when nothing but time is filtered."""
    from dockdrift.db.dimensions import DIMENSIONS  # each dimension's flag, as declared

    return " ".join(f"{DIMENSIONS[name].flag} {v}" for name, values in flt.values().items()
                    for v in values)


def _iso(t: datetime | None) -> str:
    return "(open)" if t is None else f"{t:%Y-%m-%d %H:%M:%S}"


def _span(scope: str, flt: Filter) -> str:
    """`baseline window A .. B` (drift), `time range A .. B` or `whole capture` (report)."""
    if scope in ("baseline", "current"):
        return f"{scope} window {_iso(flt.since)} .. {_iso(flt.until)}"
    if flt.since is None and flt.until is None:
        return "whole capture"
    return f"time range {_iso(flt.since)} .. {_iso(flt.until)}"


def _recorded_values(engine: Engine, column: str, limit: int = 8) -> str:
    col = getattr(Exchange, column)
    stmt = select(col, func.count()).group_by(col).order_by(func.count().desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return ", ".join(f"{v if v is not None else '(none)'} ({n})" for v, n in rows) or "none"


def _why_empty(engine: Engine, db: str, flt: Filter) -> str | None:
    """The store or the filter explains an empty window: say which (None: neither does)."""
    if time_bounds(engine, Filter()) == (None, None):
        return f"{db} holds no exchanges at all: is a recorder writing to it?"
    everywhere = replace(flt, since=None, until=None)
    if describe_filter(flt) and time_bounds(engine, everywhere) == (None, None):
        asked = {"target": flt.target, "recorder": flt.recorders}
        seen = "; ".join(f"{k}: {_recorded_values(engine, k)}" for k, v in asked.items() if v)
        return (f"no exchange in {db} matches {describe_filter(flt)} at any time"
                + (f" (recorded {seen})" if seen else ""))
    return None


def window_shortfall(engine: Engine, scope: str, db: str, flt: Filter, info: dict,
                     minimum: int) -> Shortfall | None:
    """Why a window (info: drift_store.window_info) cannot decide anything, or None.

    A window decides when it holds at least `minimum` answered exchanges (min_total, >= 1).
    """
    answered, failed = int(info["n_answered"]), int(info["n_proxy_failures"])
    if answered >= max(minimum, 1):
        return None
    span = _span(scope, flt)
    where = f" {describe_filter(flt)}" if describe_filter(flt) else ""
    if answered == 0:
        why = _why_empty(engine, db, flt)
        if why is not None:  # the store or the filter: the same for both windows
            return Shortfall("store" if why.startswith(db) else "filter", why, 0, minimum)
        if failed:
            why = (f"the {span} holds {failed} exchanges, all failed on the proxy's side "
                   "(no server answered: is the daemon down?)")
        else:
            first, last = time_bounds(engine, replace(flt, since=None, until=None))
            why = (f"the {span}{where} holds no exchanges; {db} has{' matching' * bool(where)} ones from "
                   f"{_iso(first)} to {_iso(last)}")
        return Shortfall(scope, why, 0, minimum)
    return Shortfall(scope, f"the {span}{where} holds {answered} answered exchanges, fewer "
                            f"than min_total = {minimum}", answered, minimum)


def untested_routes(baseline: pd.DataFrame, current: pd.DataFrame,
                    minimum: int) -> list[dict[str, object]]:
    """Routes with fewer than `minimum` answered requests in a window: their code shares were
    not tested (new and vanished codes still were). Inputs: drift.route_counts tables."""
    keys = ["target", "method", "route"]
    n_b = baseline.groupby(keys)["count"].sum().rename("baseline_n")
    n_c = current.groupby(keys)["count"].sum().rename("current_n")
    both = pd.concat([n_b, n_c], axis=1).fillna(0).astype("int64")
    thin = both[(both["baseline_n"] < minimum) | (both["current_n"] < minimum)]
    return [{"target": t, "method": m, "route": r, "baseline_n": int(row.baseline_n),
             "current_n": int(row.current_n)}
            for (t, m, r), row in thin.sort_index().iterrows()]
