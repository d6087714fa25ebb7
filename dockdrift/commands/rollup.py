"""Count every complete day (UTC) into daily rollups: `dockdrift rollup --db URL`.

Safe to run as often as you like (cron, a systemd timer): days already rolled up and not
changed since are skipped; a day that got late rows is counted again. `dockdrift prune` runs
it first. Exit codes: 0 done, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, metavar="PATH_OR_URL",
                        help="the store (SQLite path or SQLAlchemy URL)")


def run(args: argparse.Namespace) -> int:
    from dockdrift.db.engine import open_existing
    from dockdrift.db.rollup import rollup

    engine = open_existing(args.db, tables=True)
    try:
        result = rollup(engine)
    finally:
        engine.dispose()
    days = (f"{result.days[0]:%Y-%m-%d}..{result.days[-1]:%Y-%m-%d}" if result.days else "none")
    print(f"dockdrift rollup: {len(result.days)} day(s) rolled up ({days}), "
          f"{result.rows} exchanges counted", file=sys.stderr)
    return 0
