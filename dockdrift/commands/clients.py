"""Who calls the Docker API: per client (family and version from the User-Agent, the process
from the kernel where the capture could ask it), its exchanges, routes, API versions
("" = version-less), status codes, first and last seen.

  dockdrift clients --db capture.sqlite
  dockdrift clients --db capture.sqlite --since 7d --format json -o clients.json

Exit codes: 0 clients listed, 2 usage or input error, 3 no exchange matched (--allow-empty: 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dockdrift.render.base import write_output
from dockdrift.commands.options import add_filter_arguments, make_filter
from dockdrift.db.basics import DEFAULT_DB
from dockdrift.errors import EXIT_NOT_ENOUGH_DATA, UsageError, read_error

FORMATS = ["text", "markdown", "html", "json"]


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="capture (SQLite path or SQLAlchemy URL)")
    add_filter_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", type=Path,
                   help="write here instead of stdout")
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0, not 3, when no exchange matched")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)


def load(args: argparse.Namespace, command: str):  # -> Clients
    """The clients the filter matched (UsageError on a bad store or filter)."""
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.analysis.clients import load_clients
    from dockdrift.db.engine import open_existing

    if getattr(args, "by", None):
        raise UsageError(f"--by is not supported by {command}: it groups by client already")
    flt = make_filter(args)
    engine = open_existing(args.db)
    try:
        return load_clients(engine, flt)
    except SQLAlchemyError as exc:
        raise read_error(args.db, exc) from None
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    from dockdrift.render.clients import CLIENT_FORMATS

    found = load(args, "clients")
    write_output(CLIENT_FORMATS[args.format](found), args.output)
    if not found.clients and not args.allow_empty:
        print("dockdrift clients: not enough data: no exchange matched", file=sys.stderr)
        return EXIT_NOT_ENOUGH_DATA
    return 0
