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
from typing import TYPE_CHECKING

from dockdrift.analysis.background import background
from dockdrift.render.base import write_output
from dockdrift.analysis.report import load_report
from dockdrift.commands.options import (
    add_allow_empty,
    add_by_argument,
    add_filter_arguments,
    add_output_arguments,
    filter_from_args,
    make_filter,
    parse_time,
)
from dockdrift.db.basics import DEFAULT_DB
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.compare import Report
    from dockdrift.analysis.load import Filter

FORMATS = ["text", "markdown", "html", "json", "csv"]
__all__ = ["add_arguments", "run", "exit_code", "load_report", "parse_time",  # old import paths
           "add_filter_arguments", "add_output_arguments", "make_filter", "background"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="capture (SQLite path or SQLAlchemy URL)")
    add_filter_arguments(p, by=False)
    add_by_argument(p)
    p.add_argument("--against", default="seed", metavar="seed|spec|spec:VERSION|own|podman",
                   help="seed: the v1.22 source document (Swarm column for swarm traffic, "
                        "Docker column for engine); spec: the Engine OpenAPI table nearest "
                        "below each exchange's API version; spec:1.41: that version; own: "
                        "each implementation's own (engine: spec, swarm: the Swarm column, "
                        "podman: Podman's table, unknown: as seed); podman[:4.3.1]: Podman's")
    add_output_arguments(p)
    p.add_argument("--min-total", type=int, default=1, metavar="N",
                   help="answered exchanges needed to decide (default 1); fewer: exit 3")
    add_allow_empty(p)


def run(args: argparse.Namespace) -> int:
    from dockdrift.analysis import load
    from dockdrift.db.engine import open_existing

    flt = filter_from_args(args)
    if args.min_total < 1:
        raise UsageError(f"--min-total must be at least 1, got {args.min_total}")
    engine = open_existing(args.db)
    if getattr(args, "by", None):
        from dockdrift.commands.by_recorder import report_sections

        try:
            text, code = report_sections(engine, flt, args.against, args.format,
                                         args.min_total, args.allow_empty, by=args.by)
        finally:
            engine.dispose()
        write_output(text, args.output)
        return code
    try:
        # The main GROUP BY runs while pandas is imported (report_render): SQLite releases the
        # GIL, so on a large capture the imports cost no wall time.
        observed = background(load.observed_counts, engine, flt)
        from dockdrift.render import report as report_render
        from dockdrift.render.base import wants_color
        from dockdrift.render.progress import Spinner

        if load.reads_rollups(engine, flt):
            print("dockdrift report: the window reaches into pruned history: the counts of "
                  "pruned days come from the daily rollups, whole days, without error texts or "
                  "example paths; the rest from the raw exchanges", file=sys.stderr)
        # AgainstError and database errors: dockdrift.errors.user_error, in cli.main
        with Spinner("opening the capture") as progress:
            report = load_report(engine, flt, args.against, progress, observed)
            report.summary["insufficient"] = _shortfalls(engine, args, flt, report)
            progress.update(f"rendering {args.format}")
            if args.format == "text":
                text = report_render.to_text(report, args.output is None and wants_color())
            else:
                text = report_render.FORMATS[args.format](report)
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

    from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA

    short = report.summary.get("insufficient") or []
    for s in short:
        print(f"dockdrift report: not enough data: {s['reason']}", file=sys.stderr)
    if report.has_undocumented:
        return EXIT_FINDINGS
    return EXIT_NOT_ENOUGH_DATA if short and not allow_empty else 0
