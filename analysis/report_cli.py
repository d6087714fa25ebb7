"""Compare the status codes a capture observed with the documented tables.

  dockdrift report --db capture.sqlite                      # text table, exit 1 if undocumented
  dockdrift report --db capture.sqlite --against spec --format html --output report.html
  dockdrift report --db capture.sqlite --since 7d --target engine --route /containers --format json
  dockdrift report --db capture.sqlite --against own     # each implementation's own documentation

Exit codes: 0 every observed code is documented, 1 undocumented codes were observed,
2 usage or input error (missing or corrupt database, unknown table version, bad time),
3 not enough data to decide: fewer than --min-total (default 1) answered exchanges matched
(an empty store, time range or filter; undocumented codes win: 1); --allow-empty: 0.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dockdrift.analysis.render import write_output
from dockdrift.db.engine import DEFAULT_DB
from dockdrift.db.implementations import TARGET_NAMES
from dockdrift.errors import UsageError, read_error

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from dockdrift.analysis.compare import Report
    from dockdrift.analysis.load import Filter

FORMATS = ["text", "markdown", "html", "json", "csv"]
T = TypeVar("T")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="capture (SQLite path or SQLAlchemy URL)")
    add_filter_arguments(p)
    p.add_argument("--against", default="seed", metavar="seed|spec|spec:VERSION|own|podman",
                   help="seed: the v1.22 source document (Swarm column for swarm traffic, "
                        "Docker column for engine); spec: the Engine OpenAPI table nearest "
                        "below each exchange's API version; spec:1.41: that version; own: "
                        "each implementation's own (engine: spec, swarm: the Swarm column, "
                        "podman: Podman's table, unknown: as seed); podman[:4.3.1]: Podman's")
    add_output_arguments(p)
    p.add_argument("--min-total", type=int, default=1, metavar="N",
                   help="answered exchanges needed to decide (default 1); fewer: exit 3")
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0, not 3, when fewer than --min-total exchanges matched")


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="ISO time (UTC unless it has an offset) or relative: 7d, 12h")
    p.add_argument("--until", help="ISO time or relative (now, 1h); exclusive")
    p.add_argument("--target", choices=sorted(TARGET_NAMES),
                   help="only this upstream kind")
    p.add_argument("--method", help="only this HTTP method")
    p.add_argument("--route", help="a route template, or a substring of one (e.g. /containers)")
    p.add_argument("--recorder", action="append", default=[], metavar="NAME",
                   help="only exchanges seen by this recorder (repeat for several)")
    p.add_argument("--by", choices=["recorder"],
                   help="one section per recorder (text, markdown, json, csv)")


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", type=Path, help="write here instead of stdout")


def parse_time(text: str | None, flag: str, now: datetime | None = None) -> datetime | None:
    """`now`, an age (`7d`, `12h`, `1d6h`) or ISO 8601 -> naive UTC (analysis.timeparse)."""
    if text is None:
        return None
    from dockdrift.analysis.timeparse import parse_time as parse

    try:
        return parse(text, now or datetime.now(UTC))
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def make_filter(args: argparse.Namespace) -> Filter:
    from dockdrift.analysis.load import Filter

    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until "
                         f"({until:%Y-%m-%d %H:%M})")
    return Filter(since=since, until=until, target=args.target, method=args.method,
                  route=args.route, recorders=tuple(getattr(args, "recorder", None) or ()))


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
                 "recorders": list(flt.recorders)},
             "denied": denied_records(denied)}
    report = make_report(observed, documented, unknown, failures, against, extra)
    step("reading errors inside streams and exit statuses")
    return outcomes.attach(report, *outcomes.load(engine, flt))


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


def background(fn: Callable[..., T], *args: object) -> Callable[[], T]:
    """Start fn(*args) in a daemon thread (an interrupted command does not wait for it);
    returns a function that waits for the result or raises fn's exception."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"dockdrift-{fn.__name__}", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]
    return result


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.analysis import load
    from dockdrift.db.engine import make_engine

    flt = make_filter(args)
    if args.min_total < 1:
        raise UsageError(f"--min-total must be at least 1, got {args.min_total}")
    engine = make_engine(args.db, create=False)
    if getattr(args, "by", None) == "recorder":
        from dockdrift.analysis.by_recorder import report_sections

        try:
            text, code = report_sections(engine, flt, args.against, args.format,
                                         args.min_total, args.allow_empty)
        finally:
            engine.dispose()
        write_output(text, args.output)
        return code
    try:
        # The main GROUP BY runs while pandas is imported (report_render): SQLite releases the
        # GIL, so on a large capture the imports cost no wall time.
        observed = background(load.observed_counts, engine, flt)
        from dockdrift.analysis import report_render
        from dockdrift.analysis.compare import AgainstError
        from dockdrift.analysis.render import Progress, wants_color

        if load.reads_rollups(engine, flt):
            print("dockdrift report: the window lies before the raw exchanges (pruned): counts "
                  "come from the daily rollups, whole days, without error texts or example "
                  "paths", file=sys.stderr)
        try:
            with Progress("opening the capture") as progress:
                report = load_report(engine, flt, args.against, progress, observed)
                report.summary["insufficient"] = _shortfalls(engine, args, flt, report)
                progress.update(f"rendering {args.format}")
                if args.format == "text":
                    text = report_render.to_text(report, args.output is None and wants_color())
                else:
                    text = report_render.FORMATS[args.format](report)
        except AgainstError as exc:
            raise UsageError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise read_error(args.db, exc) from None
    finally:
        engine.dispose()
    write_output(text, args.output)
    return exit_code(report, args.allow_empty)


def _shortfalls(engine: Engine, args: argparse.Namespace, flt: Filter,
                report: Report) -> list[dict]:
    from dockdrift.analysis.sufficiency import window_shortfall

    info = {"n_answered": report.summary.get("answered", 0),
            "n_proxy_failures": report.summary.get("proxy_failed", 0)}
    short = window_shortfall(engine, "report", args.db, flt, info, args.min_total)
    return [short.to_dict()] if short else []


def exit_code(report: Report, allow_empty: bool = False) -> int:
    """1 undocumented codes (they were observed, whatever else), else 3 when too few exchanges
    matched to decide (unless allow_empty), else 0."""
    import sys

    from dockdrift.analysis.sufficiency import EXIT_NOT_ENOUGH_DATA

    short = report.summary.get("insufficient") or []
    for s in short:
        print(f"dockdrift report: not enough data: {s['reason']}", file=sys.stderr)
    if report.has_undocumented:
        return 1
    return EXIT_NOT_ENOUGH_DATA if short and not allow_empty else 0
