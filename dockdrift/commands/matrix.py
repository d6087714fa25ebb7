"""Implementations of the Docker API side by side: which answer the same requests alike.

  dockdrift matrix --db matrix.sqlite                                  # text grid
  dockdrift matrix --db matrix.sqlite --format html -o matrix.html
  dockdrift matrix --db matrix.sqlite --implementation "engine 26.1.5+dfsg1" "podman 4.3.1"
  dockdrift matrix --db matrix.sqlite --format seed --compare "swarm 1.2.9" "engine 20.10.24+dfsg1"

One row per route (passive traffic) and per probe case (case, method, route); one column per
implementation (`target version`, e.g. `podman 4.3.1`): the codes it answered, its documented
codes, exit statuses and stream errors. A row differs when the implementations that answered it
answered different sets of codes, exit statuses or stream errors; a row only one
implementation answered is listed apart and never counts as a difference.

Exit codes: 0 all implementations agree, 1 some rows differ, 2 usage or input error (an unknown
implementation label: the message lists the known ones), 3 not enough data to decide (no
exchanges, fewer than two implementations, or no request answered by two of them;
--allow-empty makes that 0).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import sys
from typing import TYPE_CHECKING

from dockdrift.render.base import write_output
from dockdrift.analysis.background import background
from dockdrift.commands.options import (
    add_allow_empty,
    add_by_argument,
    add_filter_arguments,
    add_output_arguments,
    filter_from_args,
)
from dockdrift.db.basics import DEFAULT_DB
from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA, UsageError

if TYPE_CHECKING:
    from dockdrift.analysis.matrix.core import Matrix

__all__ = ["add_arguments", "run", "load_matrix"]  # noqa: F822 - load_matrix: __getattr__


def __getattr__(name: str) -> object:
    """`load_matrix` at its old import path, imported when asked (SQLAlchemy: not at --help)."""
    if name == "load_matrix":
        from dockdrift.analysis.matrix.load import load_matrix

        return load_matrix
    raise AttributeError(name)
FORMATS = ["text", "markdown", "html", "csv", "json", "seed"]
AGAINST = "own|seed|spec|spec:VERSION|podman|podman:VERSION"  # analysis.against


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="store (SQLite path or SQLAlchemy URL)")
    p.add_argument("--against", default="own", metavar=AGAINST,
                   help="documented codes shown per implementation: own (each its own table: "
                        "Swarm the source document, the Engine its OpenAPI table, Podman "
                        "its own), or one table for all (default: own)")
    add_filter_arguments(p, by=False)  # its --implementation: the columns, in this order (run)
    add_by_argument(p, ("recorder", "client"), "one column per (implementation, recorder) or "
                    "(implementation, client family)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="exactly these two implementations (the columns of --format seed)")
    p.add_argument("--include-setup", action="store_true",
                   help="also the setup/cleanup requests of probe cases (<case>#setup)")
    add_allow_empty(p)
    add_output_arguments(p, FORMATS)


def _render(m: Matrix, args: argparse.Namespace) -> str:
    from dockdrift.render import matrix as render

    if args.format == "seed":
        return _seed(m, args.compare)
    if args.format == "html":
        from dockdrift.render.matrix_page import to_html

        return to_html(m)
    if args.format == "text":
        from dockdrift.render.base import wants_color

        return render.to_text(m, args.output is None and wants_color())
    return render.FORMATS[args.format](m)


def _seed(m: Matrix, compare: list[str] | None) -> str:
    from dockdrift.analysis.matrix.seed import seed_rows, to_seed_text
    from dockdrift.version import version_info

    if compare is None and len(m.implementations) != 2:
        raise UsageError("--format seed compares two implementations: add --compare A B "
                         f"(known: {', '.join(repr(i) for i in m.implementations)})")
    a, b = compare or m.implementations
    intro = (f"Status codes answered by {a} and {b}, as recorded by dockdrift "
             f"{version_info()['version']} ({m.summary.get('exchanges', 0)} exchanges; "
             f"`no this api`: never answered and documented as n/a, against {m.against}).")
    return to_seed_text(seed_rows(m.rows, a, b), a, b, intro)


def run(args: argparse.Namespace) -> int:
    from dockdrift.analysis.matrix import load
    from dockdrift.analysis.matrix.load import load_matrix
    from dockdrift.db.engine import open_existing

    # --implementation picks and orders the matrix's columns (an unknown label: exit 2 with
    # the known ones), so it is not a SQL condition here
    flt = replace(filter_from_args(args), implementations=())
    wanted = list(args.compare) if args.compare else (args.implementation or None)
    if args.compare and args.implementation:
        raise UsageError("use --compare A B or --implementation LABEL ..., not both")
    if args.compare and args.compare[0] == args.compare[1]:
        raise UsageError("--compare needs two different implementations")
    engine = open_existing(args.db)
    try:
        counts = background(load.matrix_counts, engine, flt, args.include_setup,
                            False, getattr(args, "by", None))
        # AgainstError, UnknownImplementation, database errors: cli.main (dockdrift.errors)
        m = load_matrix(engine, flt, args.against, wanted, args.include_setup, counts)
        if not m.enough_data:
            return _not_enough(m, args)
        text = _render(m, args)
    finally:
        engine.dispose()
    write_output(text, args.output)
    return EXIT_FINDINGS if m.has_differences else 0


def _not_enough(m: Matrix, args: argparse.Namespace) -> int:
    """Exit 3 (0 with --allow-empty): one line on stderr; the data formats still say so."""
    from dockdrift.render.matrix import verdict_line

    n = m.summary.get("exchanges", 0)
    why = ("no exchanges in the store for these filters" if not n else verdict_line(m))
    if args.format not in ("seed",):
        write_output(_render(m, args), args.output)
    print(f"dockdrift matrix: {why}" + ("" if args.allow_empty else
                                        " (exit 3; --allow-empty exits 0)"), file=sys.stderr)
    return 0 if args.allow_empty else EXIT_NOT_ENOUGH_DATA
