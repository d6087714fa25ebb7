"""The report as an analysis API: the capture aggregated in SQL, compared with a documented
table, as one typed `Report` (the `report` command and the notebook call `load_report`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from dockdrift.analysis.compare import Report
    from dockdrift.analysis.load import Filter


def documented_frame(engine: Engine) -> pd.DataFrame:
    """The documented tables, synced into the store; in memory when the store is read-only."""
    import pandas as pd
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.analysis import load
    from dockdrift.db.documented import documented_rows, sync_documented

    try:
        sync_documented(engine)
        return load.documented_codes(engine)
    except SQLAlchemyError:  # read-only file or no documented_codes table: same data, in memory
        cols = ["source", "api_version", "target", "method", "route", "handler",
                "operation_id", "status_code", "absent"]
        return pd.DataFrame(documented_rows(), columns=cols)


def load_report(engine: Engine, flt: Filter | None = None, against: str = "seed",
                progress: object | None = None,
                observed: Callable[[], pd.DataFrame] | None = None) -> Report:
    """Aggregate the capture in SQL and compare it with a documented table.

    `observed`: `load.observed_counts(engine, flt)` already running (`background`).
    """
    from dockdrift.analysis import load
    from dockdrift.analysis.compare import make_report
    from dockdrift.analysis.outcomes import report as outcomes

    flt = flt or load.Filter()
    step = getattr(progress, "update", lambda _msg: None)
    step("loading the documented tables")
    documented = documented_frame(engine)
    step("counting status codes")
    observed = observed() if observed else load.observed_counts(engine, flt)
    observed = with_podman_release(engine, flt, observed, against)
    step("finding unknown routes and proxy failures")
    unknown, failures = load.unknown_routes(engine, flt), load.proxy_failures(engine, flt)
    # Every exchange is answered or failed on the proxy: the count is free, and first/last
    # are two index lookups (load.time_span would walk every row again).
    n = int(observed["count"].sum()) + int(failures["count"].sum())
    first, last = load.time_bounds(engine, flt) if n else (None, None)
    denied = load.denied_requests(engine, flt)
    step("comparing")
    extra = {"since": _iso(flt.since), "until": _iso(flt.until), "first": _iso(first),
             "last": _iso(last), "exchanges": n, "filter": {
                 "target": flt.target, "method": flt.method, "route": flt.route,
                 "recorders": list(flt.recorders), "user_agent": flt.user_agent,
                 "implementations": list(flt.implementations)},
             "denied": denied_records(denied)}
    step("naming the clients")
    extra["filter"]["clients"] = list(flt.clients)
    extra["clients"] = clients_records(engine, flt)
    report = make_report(observed, documented, unknown, failures, against, extra)
    step("reading errors inside streams and exit statuses")
    report = outcomes.attach(report, *outcomes.load(engine, flt))
    step("comparing body shapes with the documentation")
    from dockdrift.analysis.shapes import report as shapes

    return shapes.attach(report, engine, flt, against)


def clients_records(engine: Engine, flt: Filter) -> list[dict]:
    """The report's `clients` section: who called (analysis.clients, brief: no routes)."""
    from dockdrift.analysis.clients import load_clients

    keep = ("client", "version", "process", "api_versions", "exchanges", "status_codes",
            "first_seen", "last_seen")
    return [{k: c.to_dict()[k] for k in keep} for c in load_clients(engine, flt, brief=True).clients]


def with_podman_release(engine: Engine, flt: object, observed: pd.DataFrame,
                        against: str) -> pd.DataFrame:
    """Podman's rows get their release when the window holds one (`own` and `podman` pick
    Podman's table by release: 4.3.1 -> podman-v4.3.1); with several the newest table is used."""
    from dockdrift.analysis import load

    if against not in ("own", "podman") or not (observed["target"] == "podman").any():
        return observed
    found = load.releases(engine, flt, "podman")  # type: ignore[arg-type]
    if len(found) != 1:
        return observed
    release = observed["target"].map({"podman": found[0]}).astype(object)
    return observed.assign(target_version=release.where(release.notna(), None))


def denied_records(df: pd.DataFrame) -> list[dict]:
    """The report's `denied` section: refused (or, dry_run, would be) by an allowlist; their
    403s are dockdrift's and never count as server codes."""
    return [{"user_agent": r.user_agent, "client": r.client, "method": r.method,
             "route": r.route, "dry_run": bool(r.dry_run), "count": int(r.count),
             "last": _iso(load_dt(r.last))} for r in df.itertuples()]


def load_dt(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None
