"""Body shapes of the answers, implementation by implementation and against the documentation.

  dockdrift shapes --db capture.sqlite                       # text, responses that differ first
  dockdrift shapes --db capture.sqlite --format html -o shapes.html
  dockdrift shapes --db capture.sqlite --against spec:1.41 --route /containers --format json

Per (method, route, status) and field: the JSON types each implementation answered (never a
value), the types its documentation gives (--against own: the Engine's spec at the request's
API version, Podman's compat routes Docker's spec at 1.41, its libpod routes none), and whether
the implementations that answered agree. Per implementation: required fields not sent, fields
sent that the documentation lacks, type mismatches, null where it says array or object.

Exit codes: 0 the implementations agree and follow their documentation, 1 fields differ
between implementations or from the documentation, 2 usage or input error, 3 not enough data:
fewer than --min-total (default 1) answers with a recorded body shape matched (--allow-empty: 0).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import sys
from pathlib import Path

from dockdrift.render.base import write_output
from dockdrift.commands.options import add_filter_arguments, make_filter
from dockdrift.db.basics import DEFAULT_DB
from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA, UsageError, read_error

FORMATS = ["text", "markdown", "html", "json"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="store (SQLite path or SQLAlchemy URL)")
    p.add_argument("--against", default="own", metavar="own|spec|spec:VERSION",
                   help="own (default): each implementation's own documentation; spec: the "
                        "Engine spec at each request's API version; spec:1.41: that spec")
    add_filter_arguments(p)  # its --implementation: these implementations, in this order
    p.add_argument("--include-setup", action="store_true",
                   help="also the setup/cleanup requests of probe cases (<case>#setup)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    p.add_argument("--min-total", type=int, default=1, metavar="N",
                   help="answers with a body shape needed to decide (default 1); fewer: exit 3")
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0, not 3, when fewer than --min-total answers matched")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.analysis.against import AgainstError
    from dockdrift.analysis.shapes import load_shapes
    from dockdrift.analysis.shapes.core import UnknownImplementation
    from dockdrift.render.shapes import FORMATS as RENDER
    from dockdrift.db.engine import open_existing

    if getattr(args, "by", None):
        raise UsageError("--by is not supported by shapes (use --recorder NAME)")
    if args.min_total < 1:
        raise UsageError(f"--min-total must be at least 1, got {args.min_total}")
    # --implementation picks and orders the columns (an unknown one: exit 2), not a condition
    flt = replace(make_filter(args), implementations=())
    engine = open_existing(args.db)
    try:
        report = load_shapes(engine, flt, args.against, args.implementation or None,
                             args.include_setup)
    except (AgainstError, UnknownImplementation) as exc:
        raise UsageError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise read_error(args.db, exc) from None
    finally:
        engine.dispose()
    write_output(RENDER[args.format](report), args.output)
    n = report.summary.get("exchanges", 0)
    if n < args.min_total and not report.has_findings:
        print(f"dockdrift shapes: not enough data: {n} answers with a recorded body shape "
              f"matched, --min-total is {args.min_total}"
              + ("" if args.allow_empty else " (exit 3; --allow-empty exits 0)"), file=sys.stderr)
        return 0 if args.allow_empty else EXIT_NOT_ENOUGH_DATA
    return EXIT_FINDINGS if report.has_findings else 0
