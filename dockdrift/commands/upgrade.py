"""Will an upgrade break my clients? For each recorded client: `breaks` (the target refuses
an API version it used with 400), `at-risk` (it used routes the target's documentation does
not have) or `ok`. Targets are data with their sources (db/data/upgrade-targets.csv), plus
every implementation recorded in the store (its own MinAPIVersion).

  dockdrift upgrade --db capture.sqlite --to "engine 29.0"
  dockdrift upgrade --db capture.sqlite --min-api 1.44            # DOCKER_MIN_API_VERSION
  dockdrift upgrade --db capture.sqlite --to "engine 28.5" --min-api 1.40 --format json

Exit codes: 0 no client breaks, 1 some client breaks, 2 usage or input error (unknown
target), 3 not enough data (no exchange matched; a recorded target whose floor is unknown).
"""

from __future__ import annotations

import argparse
import sys

from dockdrift.commands.clients import add_common, load
from dockdrift.render.base import write_output
from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA, UsageError, read_error


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="IMPLEMENTATION",
                   help='the target: "engine 29.0", "engine 28" (newest 28.x), "podman 5", or '
                        "an implementation recorded in the store (see --list-targets)")
    p.add_argument("--min-api", metavar="X.Y",
                   help="the target's API floor (DOCKER_MIN_API_VERSION); alone: only the floor")
    p.add_argument("--list-targets", action="store_true", help="print the known targets")
    add_common(p)


def recorded_targets(db: str) -> tuple:
    """Implementations recorded in the store, as targets (their own MinAPIVersion)."""
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.db.engine import open_existing
    from dockdrift.db.upgrade_targets import recorded

    engine = open_existing(db)
    try:
        return recorded(engine)
    except SQLAlchemyError as exc:
        raise read_error(db, exc) from None
    finally:
        engine.dispose()


def field_changes(args: argparse.Namespace, target) -> dict:  # noqa: ANN001 - a Target
    """Fields of version-less exchanges the target's documentation removed or retyped."""
    from sqlalchemy.exc import SQLAlchemyError

    from dockdrift.analysis.upgrade_fields import field_risks
    from dockdrift.commands.options import make_filter
    from dockdrift.db.engine import make_engine

    engine = make_engine(args.db, create=False)
    try:
        return field_risks(engine, make_filter(args), target)
    except SQLAlchemyError as exc:
        raise read_error(args.db, exc) from None
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> int:
    from dockdrift.render.clients import UPGRADE_FORMATS
    from dockdrift.analysis.upgrade import assess, check_api, floor_target
    from dockdrift.db.upgrade_targets import documented_routes, find, known

    if args.min_api is not None and not check_api(args.min_api):
        raise UsageError(f"--min-api: expected an API version like 1.44, got {args.min_api!r}")
    recorded = recorded_targets(args.db)
    if args.list_targets:
        for t in (*known(), *recorded):
            print(f"{t.name:24} API {t.min_api or '?'} .. {t.max_api or '?'}"
                  f"{'' if t.enforced else ' (not enforced)'}  {t.source}")
        return 0
    if not args.to and not args.min_api:
        raise UsageError("give --to IMPLEMENTATION or --min-api X.Y (--list-targets lists them)")
    target = None
    if args.to:
        target = find(args.to, recorded)
        if target is None:
            names = ", ".join(t.name for t in (*known(), *recorded))
            raise UsageError(f"--to: unknown target {args.to!r}; known releases (or any "
                             f"version at or after them, e.g. engine 28.5): {names}")
    if args.min_api:
        target = floor_target(args.min_api, target)
    assert target is not None
    found = load(args, "upgrade")
    if not found.clients:
        print("dockdrift upgrade: not enough data: no exchange matched", file=sys.stderr)
        return 0 if args.allow_empty else EXIT_NOT_ENOUGH_DATA
    if target.enforced and target.min_api is None:
        print(f"dockdrift upgrade: not enough data: the store does not say {target.name}'s "
              "minimum API version (give --min-api)", file=sys.stderr)
        return EXIT_NOT_ENOUGH_DATA
    table, docs = documented_routes(target) if target.documented else ("", set())
    from dockdrift.db.upgrade_targets import for_implementation

    result = assess(found, target, table, docs if table else None,
                    lambda kind, version: for_implementation(kind, version, None).max_api,
                    field_changes(args, target))
    write_output(UPGRADE_FORMATS[args.format](result), args.output)
    return EXIT_FINDINGS if result.breaks else 0
