"""Flags shared by the commands that read exchanges: the filter, the output, and times."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dockdrift.db.implementations import TARGET_NAMES
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from dockdrift.analysis.load import Filter

FORMATS = ["text", "markdown", "html", "json", "csv"]


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="ISO time (UTC unless it has an offset) or relative: 7d, 12h")
    p.add_argument("--until", help="ISO time or relative (now, 1h); exclusive")
    p.add_argument("--target", choices=sorted(TARGET_NAMES),
                   help="only this upstream kind")
    p.add_argument("--method", help="only this HTTP method")
    p.add_argument("--route", help="a route template, or a substring of one (e.g. /containers)")
    p.add_argument("--recorder", action="append", default=[], metavar="NAME",
                   help="only exchanges seen by this recorder (repeat for several)")
    p.add_argument("--client", action="append", default=[], metavar="NAME",
                   help="only exchanges of this client: a family (docker-cli, docker-py, curl) "
                        "or 'family version' (repeat for several; see dockdrift clients)")
    p.add_argument("--by", choices=["recorder", "client"],
                   help="one section per recorder, or per client family (text, markdown, "
                        "json, csv)")


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", type=Path, help="write here instead of stdout")


def parse_time(text: str | None, flag: str, now: datetime | None = None) -> datetime | None:
    """`now`, an age (`7d`, `12h`, `1d6h`) or ISO 8601 -> naive UTC (analysis.timeparse)."""
    if text is None:
        return None
    from dockdrift.analysis.timeparse import parse_time as parse

    try:
        return parse(text, now or datetime.now(UTC))
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def make_filter(args: argparse.Namespace) -> Filter:
    from dockdrift.analysis.load import Filter

    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until "
                         f"({until:%Y-%m-%d %H:%M})")
    return Filter(since=since, until=until, target=args.target, method=args.method,
                  route=args.route, recorders=tuple(getattr(args, "recorder", None) or ()),
                  clients=tuple(getattr(args, "client", None) or ()))
