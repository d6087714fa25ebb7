"""What changed in the status codes between a baseline and a current window, per route.

  dockdrift drift --db capture.sqlite                        # baseline 8d..1d vs current 1d..now
  dockdrift drift --db capture.sqlite --baseline 14d..7d --current 7d..now --format html -o d.html
  dockdrift drift --db new.sqlite --baseline-db old.sqlite   # two captures, all of each
  dockdrift drift --db capture.sqlite --since-last-run --save   # from cron / a systemd timer
  dockdrift drift history --db capture.sqlite --format html -o history.html

Windows are START..END (relative like 7d, 12h, or ISO; an empty side is open). Thresholds come
from dockdrift.toml or [tool.dockdrift] in pyproject.toml ([drift] section), then the flags.
--max-gap 1h adds `recording_gap` findings: a stretch of the current window with no exchanges
(the recorder stopped, or nobody routes through it any more).
Exit codes: 0 no findings, 1 findings, 2 usage or input error, 3 not enough data to decide (a
window with fewer than min_total answered exchanges: empty store, filter or window; findings
win over it: 1); --allow-empty turns 3 into 0.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime

from dockdrift.render.base import write_output
from dockdrift.commands.drift_args import FORMATS, _has_runs_table, _open, add_arguments, compute

__all__ = ["FORMATS", "add_arguments", "compute", "run", "run_history", "exit_code"]


def run(args: argparse.Namespace) -> int:
    from dockdrift.analysis.timeparse import parse_time

    now = datetime.now(UTC).replace(tzinfo=None)
    if args.now:
        now = parse_time(args.now, now)
    if args.action == "history":
        return run_history(args, now)
    from dockdrift.render import drift as drift_render
    from dockdrift.analysis.drift.store import save_run

    if getattr(args, "by", None) in ("recorder", "client"):
        from dockdrift.commands.by_recorder import drift_sections

        text, code = drift_sections(args, now, by=args.by)
        write_output(text, args.output)
        return code
    result, engine, b_engine, meta = compute(args, now)
    short = result["insufficient"]
    current_short = any(s["scope"] in ("current", "store", "filter") for s in short)
    if args.save and (args.allow_empty or not current_short):
        save_run(engine, meta["baseline"], replace(meta["current"], end=meta["current"].end or now),
                 result["findings"], meta["params"], now)
    timelines: tuple[dict, str] = ({}, "")
    if args.format == "html":  # share timelines of the flagged routes, read from the stores
        from dockdrift.analysis.drift.plots import route_timelines
        from dockdrift.analysis.drift.run import flagged_routes

        timelines = route_timelines(flagged_routes(result["findings"]), meta, engine, b_engine)
    text = drift_render.render(result, args.format, meta, timelines,
                               use_color=args.output is None and drift_render.wants_color())
    write_output(text, args.output)
    return exit_code(result, args, saved_skipped=args.save and current_short)


def exit_code(result: dict, args: argparse.Namespace, saved_skipped: bool = False) -> int:
    """1 findings, else 3 when a window cannot decide (unless --allow-empty), else 0.

    Findings win over too little data: each is a decision the data there was supports (the
    tests are exact at any size); the shortfall is printed with them either way.
    """
    import sys

    from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA

    for s in result["insufficient"]:
        print(f"dockdrift drift: not enough data: {s['reason']}", file=sys.stderr)
    if saved_skipped and not args.allow_empty:
        print("dockdrift drift: run not saved (its current window cannot serve as the next "
              "baseline); --since-last-run starts from the last saved run again", file=sys.stderr)
    if result["findings"]:
        return EXIT_FINDINGS
    if result["insufficient"] and not args.allow_empty:
        return EXIT_NOT_ENOUGH_DATA
    return 0


def run_history(args: argparse.Namespace, now: datetime) -> int:
    from dockdrift.render import drift as drift_render
    from dockdrift.analysis.drift.store import runs
    from dockdrift.analysis.timeparse import parse_time

    engine = _open(args.db)
    since = parse_time(args.since, now) if args.since else None
    df = runs(engine, since) if _has_runs_table(engine) else runs_empty()
    write_output(drift_render.render_history(df, args.format, args.db), args.output)
    return 0


def runs_empty():  # noqa: ANN201
    import pandas as pd

    from dockdrift.analysis.drift.store import RUN_COLUMNS

    return pd.DataFrame(columns=RUN_COLUMNS)


