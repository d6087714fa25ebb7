"""What changed in the status codes between a baseline and a current window, per route.

  dockdrift drift --db capture.sqlite                        # baseline 8d..1d vs current 1d..now
  dockdrift drift --db capture.sqlite --baseline 14d..7d --current 7d..now --format html -o d.html
  dockdrift drift --db new.sqlite --baseline-db old.sqlite   # two captures, all of each
  dockdrift drift --db capture.sqlite --since-last-run --save   # from cron / a systemd timer
  dockdrift drift history --db capture.sqlite --format html -o history.html

Windows are START..END (relative like 7d, 12h, or ISO; an empty side is open). Thresholds come
from dockdrift.toml or [tool.dockdrift] in pyproject.toml ([drift] section), then the flags.
Exit codes: 0 no findings, 1 findings, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.render import write_output
from db.engine import DEFAULT_DB
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from analysis.drift import DriftParams
    from analysis.drift_store import Window

FORMATS = ["text", "markdown", "html", "json"]
_OVERRIDES = ["alpha", "min_count", "min_total", "min_expected", "min_effect", "correction"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["run", "history"], default="run",
                   help="run (default): compare two windows; history: list saved runs")
    p.add_argument("--db", default=DEFAULT_DB, help="capture (SQLite path or SQLAlchemy URL)")
    w = p.add_argument_group("windows")
    w.add_argument("--baseline", metavar="START..END",
                   help="baseline window (default 8d..1d; with --baseline-db all of it: ..)")
    w.add_argument("--current", metavar="START..END",
                   help="current window (default 1d..now; with --baseline-db all of --db: ..)")
    w.add_argument("--baseline-db", metavar="PATH", help="take the baseline from this capture")
    w.add_argument("--since-last-run", action="store_true",
                   help="baseline = the last saved run's current window, current = its end..now")
    w.add_argument("--now", metavar="TIME", help="pretend it is this time (ISO); default: clock")
    w.add_argument("--recorder", action="append", default=[], metavar="NAME",
                   help="only exchanges seen by this recorder, in both windows (repeatable)")
    w.add_argument("--baseline-recorder", action="append", default=[], metavar="NAME",
                   help="the baseline is what these recorders saw (compare recorders: the "
                        "windows may then be the same time range, default 1d..now)")
    w.add_argument("--current-recorder", action="append", default=[], metavar="NAME",
                   help="the current window is what these recorders saw")
    w.add_argument("--by", choices=["recorder"],
                   help="one drift run per recorder, its baseline against its current window")
    t = p.add_argument_group("thresholds (override the config file)")
    t.add_argument("--config", metavar="PATH", help="default ./dockdrift.toml or pyproject.toml")
    t.add_argument("--alpha", type=float, help="false-alarm level of a run (default 0.01)")
    t.add_argument("--min-count", type=int, help="occurrences for a new/vanished code (5)")
    t.add_argument("--min-total", type=int, help="requests per window to test shares (30)")
    t.add_argument("--min-expected", type=float, help="G-test cell expectation (5)")
    t.add_argument("--min-effect", type=float, help="share-shift distance floor, 0..1 (0.1)")
    t.add_argument("--correction", help="holm (default), bh, bonferroni or none")
    t.add_argument("--ignore-route", action="append", default=[], metavar="ROUTE",
                   help="skip this route template (glob); repeatable")
    t.add_argument("--against", metavar="seed|spec|spec:VERSION|own|podman",
                   help="documented table for newly_undocumented, as in report (default seed)")
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=FORMATS, default="text")
    o.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    o.add_argument("--save", action="store_true", help="store this run in drift_runs")
    o.add_argument("--since", metavar="TIME", help="history: only runs saved since TIME")


def resolve_params(args: argparse.Namespace, base: DriftParams) -> DriftParams:
    """Config values overridden by the flags given, each checked like the config's."""
    from analysis.config import _NUMBERS, check_correction, check_number

    values: dict[str, Any] = {}
    for key in _OVERRIDES:
        value = getattr(args, key)
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "correction":
            values[key] = check_correction(value, flag)
        else:
            kind, lo, hi = _NUMBERS[key]
            values[key] = check_number(key, value, kind, lo, hi, flag)
    if args.ignore_route:
        values["ignore_routes"] = (*base.ignore_routes, *args.ignore_route)
    return replace(base, **values)


def _open(db: str, *, create_tables: bool = False) -> Engine:
    from db.engine import ensure_schema, make_engine

    engine = make_engine(db, create=False)
    if create_tables:
        ensure_schema(engine, create=True)
    return engine


def _has_runs_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return "drift_runs" in inspect(engine).get_table_names()


def resolve_windows(args: argparse.Namespace, options: dict[str, str], engine: Engine,
                    now: datetime) -> tuple[Window, Window]:
    """The two windows from --since-last-run, the flags, the config, or the defaults."""
    from analysis.drift_store import Window, last_run
    from analysis.timeparse import parse_window

    if args.since_last_run:
        if args.baseline or args.baseline_db:
            raise UsageError("--since-last-run chooses the baseline itself: drop --baseline / "
                             "--baseline-db")
        prev = last_run(engine) if _has_runs_table(engine) else None
        if prev is None:
            raise UsageError(f"no saved drift run in {args.db}: run once with --save (and "
                             "explicit windows) before using --since-last-run")
        end = prev.current_end or prev.created_at
        if end >= now:
            raise UsageError(f"the last saved run's current window ends at "
                             f"{end:%Y-%m-%d %H:%M:%S}, not before now: nothing new to compare")
        return (Window(args.db, prev.current_start, end, _recorders(args, "baseline")),
                Window(args.db, end, now, _recorders(args, "current")))
    by_recorder = _recorders(args, "baseline") != _recorders(args, "current")
    two = bool(args.baseline_db) or by_recorder
    c_text = args.current or options.get("current") or (
        "1d..now" if by_recorder else ".." if two else "1d..now")
    b_text = args.baseline or (c_text if by_recorder else None) or options.get("baseline") or (
        ".." if two else "8d..1d")
    b_start, b_end = parse_window(b_text, now)
    c_start, c_end = parse_window(c_text, now)
    if not two and (b_end is None or c_start is None or b_end > c_start):
        raise UsageError(f"on one database the baseline ({b_text}) must end before the current "
                         f"window ({c_text}) starts; or compare two captures with --baseline-db")
    return (Window(args.baseline_db or args.db, b_start, b_end, _recorders(args, "baseline")),
            Window(args.db, c_start, c_end, _recorders(args, "current")))


def _recorders(args: argparse.Namespace, side: str) -> tuple[str, ...]:
    """The recorders of one window: --baseline-recorder / --current-recorder, else --recorder."""
    own = getattr(args, f"{side}_recorder", None) or []
    return tuple(own or getattr(args, "recorder", None) or ())


def compute(args: argparse.Namespace, now: datetime) -> tuple[dict, Engine, Engine, dict]:
    """Run the comparison: returns the JSON-shaped result, both engines and the params."""
    from analysis.compare import AgainstError
    from analysis.config import load_config
    from analysis.drift import documented_sets, find_drift, route_counts
    from analysis.report_cli import documented_frame
    from analysis.drift_render import records
    from analysis.drift_store import window_aggregates, window_info
    from analysis.report_cli import background

    cfg = load_config(args.config)
    params = resolve_params(args, cfg.params)
    engine = _open(args.db, create_tables=args.save)
    baseline, current = resolve_windows(args, cfg.options, engine, now)
    b_engine = _open(args.baseline_db) if args.baseline_db else engine
    # The two windows at once (SQLite releases the GIL; WAL readers do not block each other).
    b_counts = background(window_aggregates, b_engine, baseline)
    c_obs, c_failed = window_aggregates(engine, current)
    b_obs, b_failed = b_counts()
    from analysis.load import Filter, reads_rollups

    for name, e, w in (("baseline", b_engine, baseline), ("current", engine, current)):
        if reads_rollups(e, Filter(since=w.start, until=w.end)):
            print(f"dockdrift drift: the {name} window lies before the raw exchanges (pruned):"
                  " its counts come from the daily rollups (whole days)", file=sys.stderr)
    against = args.against or cfg.options.get("against", "seed")
    try:
        doc = documented_sets(c_obs, documented_frame(engine), against)
    except AgainstError as exc:
        raise UsageError(str(exc)) from None
    findings = find_drift(route_counts(b_obs), route_counts(c_obs), params, doc)
    result = {"findings": records(findings),
              "baseline": window_info(b_engine, baseline, b_obs, b_failed),
              "current": window_info(engine, current, c_obs, c_failed)}
    meta = {"params": params.to_dict() | {"against": against, "config": cfg.source},
            "baseline": baseline, "current": current}
    return result, engine, b_engine, meta


def run(args: argparse.Namespace) -> int:
    from analysis.timeparse import parse_time

    now = datetime.now(UTC).replace(tzinfo=None)
    if args.now:
        now = parse_time(args.now, now)
    if args.action == "history":
        return run_history(args, now)
    from analysis import drift_render
    from analysis.drift_store import save_run

    if getattr(args, "by", None) == "recorder":
        from analysis.by_recorder import drift_sections

        text, code = drift_sections(args, now)
        write_output(text, args.output)
        return code
    result, engine, b_engine, meta = compute(args, now)
    if args.save:
        save_run(engine, meta["baseline"], replace(meta["current"], end=meta["current"].end or now),
                 result["findings"], meta["params"], now)
    text = drift_render.render(result, args.format, meta, engine, b_engine,
                               use_color=args.output is None and drift_render.wants_color())
    write_output(text, args.output)
    return 1 if result["findings"] else 0


def run_history(args: argparse.Namespace, now: datetime) -> int:
    from analysis import drift_render
    from analysis.drift_store import runs
    from analysis.timeparse import parse_time

    engine = _open(args.db)
    since = parse_time(args.since, now) if args.since else None
    df = runs(engine, since) if _has_runs_table(engine) else runs_empty()
    write_output(drift_render.render_history(df, args.format, args.db), args.output)
    return 0


def runs_empty():  # noqa: ANN201
    import pandas as pd

    from analysis.drift_store import RUN_COLUMNS

    return pd.DataFrame(columns=RUN_COLUMNS)


