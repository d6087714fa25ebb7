"""Delete raw exchanges older than a cut-off, where the daily rollups cover them:
`dockdrift prune --db URL --before 90d`.

Never loses a count: each day is rolled up first (again, if rows arrived since), and its raw
rows are deleted in the same transaction that checks the rollup counted exactly them. Report
and drift windows that lie wholly in the pruned past read the rollups (whole days) and say so.
Today (UTC) is never pruned. Exit codes: 0 done, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from dockdrift.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, metavar="PATH_OR_URL",
                        help="the store (SQLite path or SQLAlchemy URL)")
    parser.add_argument("--before", required=True, metavar="TIME",
                        help="delete raw rows of the days before this: an age (90d) or an ISO "
                             "time (UTC)")


def run(args: argparse.Namespace) -> int:
    from dockdrift.analysis.timeparse import parse_time
    from dockdrift.db.engine import open_existing
    from dockdrift.db.rollup import prune

    try:
        before = parse_time(args.before, now=datetime.utcnow())
    except ValueError as exc:
        raise UsageError(f"--before: {exc}") from None
    engine = open_existing(args.db, tables=True)
    try:
        result = prune(engine, before)
    finally:
        engine.dispose()
    print(f"dockdrift prune: {result.rows} raw exchanges deleted from {len(result.days)} day(s) "
          f"before {before:%Y-%m-%d}; their counts are kept in the daily rollups",
          file=sys.stderr)
    return 0
