"""The drift command's flags, and how they become a DriftQuery (windows, thresholds, config).

Below the command (dockdrift.commands.drift) and its `--by recorder` sections
(dockdrift.commands.by_recorder), which both turn a namespace into one comparison here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockdrift.commands.options import add_filter_arguments, filter_from_args
from dockdrift.db.basics import DEFAULT_DB
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.drift.stats import DriftParams
    from dockdrift.analysis.drift.store import Window

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
    w.add_argument("--baseline-recorder", action="append", default=[], metavar="NAME",
                   help="the baseline is what these recorders saw (compare recorders: the "
                        "windows may then be the same time range, default 1d..now)")
    w.add_argument("--current-recorder", action="append", default=[], metavar="NAME",
                   help="the current window is what these recorders saw")
    w.add_argument("--by", choices=["recorder", "client"],
                   help="one drift run per recorder (or client family), its baseline against "
                        "its current window")
    # the shared filter flags (--recorder: both windows, unless --baseline/--current-recorder;
    # --client, --user-agent: raw exchanges only, the daily rollups keep neither)
    add_filter_arguments(p.add_argument_group("which exchanges (both windows)"), times=False,
                         by=False)
    d = p.add_argument_group("missing data")
    d.add_argument("--max-gap", metavar="DURATION",
                   help="report a recording_gap when the current window has no exchanges for "
                        "longer than this (e.g. 1h; config max_gap; default: off)")
    d.add_argument("--allow-empty", action="store_true",
                   help="exit 0, not 3, when a window has too little data to decide")
    t = p.add_argument_group("thresholds (override the config file)")
    t.add_argument("--config", metavar="PATH", help="default ./dockdrift.toml or pyproject.toml")
    t.add_argument("--alpha", type=float, help="false-alarm level of a run (default 0.01)")
    t.add_argument("--min-count", type=int, help="occurrences for a new/vanished code (5)")
    t.add_argument("--min-total", type=int,
                   help="answered requests a window needs to decide (else exit 3) and a route "
                        "needs per window for its shares to be tested (30)")
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
    from dockdrift.analysis.drift.config import _NUMBERS, check_correction, check_number

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
    """An existing store only (a typo'd --db is exit 2, never a new store); --save may add
    the drift_runs table to an older one."""
    from dockdrift.db.engine import open_existing

    return open_existing(db, tables=create_tables)


def _has_runs_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return "drift_runs" in inspect(engine).get_table_names()


def resolve_windows(args: argparse.Namespace, options: dict[str, str], engine: Engine,
                    now: datetime) -> tuple[Window, Window]:
    """The two windows from --since-last-run, the flags, the config, or the defaults."""
    from dockdrift.analysis.drift.store import Window, last_run
    from dockdrift.analysis.timeparse import parse_window

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


def _max_gap(args: argparse.Namespace, options: dict[str, str]) -> timedelta | None:
    from dockdrift.analysis.drift.config import check_duration

    text = args.max_gap or options.get("max_gap")
    return timedelta(seconds=check_duration(text, "--max-gap")) if text else None


def compute(args: argparse.Namespace, now: datetime) -> tuple[dict, Engine, Engine, dict]:
    """Run the comparison: returns the JSON-shaped result, both engines and the params."""
    from dockdrift.analysis.drift.config import load_config
    from dockdrift.analysis.drift.run import DriftQuery, compare_windows

    cfg = load_config(args.config)
    params = resolve_params(args, cfg.params)
    max_gap = _max_gap(args, cfg.options)
    engine = _open(args.db, create_tables=args.save)
    baseline, current = resolve_windows(args, cfg.options, engine, now)
    b_engine = _open(args.baseline_db) if args.baseline_db else engine
    against = args.against or cfg.options.get("against", "seed")
    base = replace(filter_from_args(args), recorders=())  # each window adds its recorders
    query = DriftQuery(baseline, current, base, params, against, max_gap)
    outcome = compare_windows(engine, b_engine, query, now)  # AgainstError: cli.main
    for name in outcome.from_rollups:
        print(f"dockdrift drift: the {name} window reaches into pruned history: the counts of "
              "pruned days come from the daily rollups (whole days), the rest from the raw "
              "exchanges", file=sys.stderr)
    meta = {"params": params.to_dict() | {"against": against, "config": cfg.source,
                                          "max_gap": args.max_gap or cfg.options.get("max_gap")},
            "baseline": baseline, "current": current}
    return outcome.result, engine, b_engine, meta
