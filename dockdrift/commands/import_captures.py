"""Copy captures into a fleet store: `dockdrift import SOURCE... --into URL`.

Each SOURCE is a SQLite capture or a SQLAlchemy URL. Importing the same capture twice adds
nothing: every exchange keeps a stable identity across copies. Hosts that cannot reach the
central database record locally (`dockdrift capture --db local.sqlite`) and ship later.
Exit codes: 0 imported (also when nothing was new), 2 usage or input error, 130 interrupted
(what was committed stays; run it again to finish).
"""

from __future__ import annotations

import argparse
import sys

from dockdrift.errors import UsageError
from dockdrift.render.progress import bar_or_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="captures to copy: SQLite paths or SQLAlchemy URLs")
    parser.add_argument("--into", required=True, metavar="URL",
                        help="the fleet store (a SQLAlchemy URL such as "
                             "postgresql+psycopg://dockdrift@db/dockdrift, or a SQLite path)")
    parser.add_argument("--batch", type=int, default=5000, metavar="N",
                        help="rows per transaction (default 5000)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dockdrift.db.engine import make_engine, open_existing, to_url
    from dockdrift.db.shipping import count_rows, import_store

    if args.batch < 1:
        raise UsageError("--batch must be at least 1")
    target_url = to_url(args.into)
    sources = []  # every source opened (never created) before the --into store is made
    for src in args.sources:
        if to_url(src) == target_url:
            raise UsageError(f"{src} is the --into store itself: name another source")
        sources.append((src, open_existing(src)))
    into = make_engine(args.into)
    total_added = 0
    for name, engine in sources:
        progress = None if args.quiet else bar_or_lines(name, count_rows(engine), "rows")
        try:
            result = import_store(engine, into, name=name, batch=args.batch,
                                  progress=progress.advance if progress else None)
        finally:
            if progress:
                progress.close()
            engine.dispose()
        total_added += result.added
        print(f"dockdrift import: {name}: {result.read} exchanges read, {result.added} added, "
              f"{result.skipped} already there", file=sys.stderr)
    shown = into.url.render_as_string(hide_password=True)
    print(f"dockdrift import: {total_added} exchanges added to {shown}", file=sys.stderr)
    into.dispose()
    return 0
