"""The flags every command that reads exchanges shares: the filter, the output, the verdict.

A command (report, drift, matrix, allowlist; and any new one such as `shapes` or `clients`):

    def add_arguments(p):
        add_filter_arguments(p)     # --since/--until and one flag per filter dimension
        add_output_arguments(p)     # --format (text, markdown, html, json, csv) and -o
        add_allow_empty(p)          # exit 0, not 3, when there is too little data
    def run(args):
        flt = filter_from_args(args)   # an analysis.filter.Filter (UsageError when malformed)

The filter flags come from the dimension declarations (db.dimensions): a dimension given a
`flag` there (e.g. --client) appears on every such command and filters in `Filter.where()`.
Only the flags are built here (no SQLAlchemy: `--help` stays a bare start).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dockdrift.db.dimensions import BY_DIMENSIONS, filter_dimensions
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from dockdrift.analysis.filter import Filter

FORMATS = ["text", "markdown", "html", "json", "csv"]


def add_filter_arguments(p: argparse.ArgumentParser, *, times: bool = True,
                         by: bool = True) -> None:
    """--since/--until (unless `times` is False: drift has windows), every dimension's filter
    flag, each the same on every command, and `--by DIM` (unless `by` is False: a command
    that adds its own with add_by_argument, or has none)."""
    if times:
        p.add_argument("--since", help="ISO time (UTC unless it has an offset) or relative: "
                                       "7d, 12h")
        p.add_argument("--until", help="ISO time or relative (now, 1h); exclusive")
    for dim in filter_dimensions():
        kwargs: dict = {"help": dim.help}  # dest: the flag's name (args.recorder, as before)
        if dim.choices:
            kwargs["choices"] = dim.choices
        if dim.metavar:
            kwargs["metavar"] = dim.metavar
        if dim.repeat and dim.name == "implementation":  # `--implementation A B`, as matrix had
            kwargs |= {"action": "extend", "nargs": "+", "default": []}
        elif dim.repeat:
            kwargs |= {"action": "append", "default": []}
        p.add_argument(dim.flag, **kwargs)
    if by:
        add_by_argument(p)


def add_by_argument(p: argparse.ArgumentParser, choices: tuple[str, ...] = BY_DIMENSIONS,
                    help: str = "one section per value of this dimension (text, markdown, "
                                "json, csv); recorder: one per recorder") -> None:
    p.add_argument("--by", choices=choices, metavar="DIM", help=f"{help} ({', '.join(choices)})")


def add_allow_empty(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-empty", action="store_true",
                   help="exit 0, not 3, when there is too little data to decide")


def add_output_arguments(p: argparse.ArgumentParser, formats: list[str] | tuple[str, ...] = tuple(FORMATS)
                         ) -> None:
    p.add_argument("--format", choices=list(formats), default="text")
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


def filter_from_args(args: argparse.Namespace) -> Filter:
    """The Filter of `add_filter_arguments`' flags (times absent: no window); UsageError for
    a malformed time or regex."""
    import re

    from dockdrift.analysis.filter import Filter

    since = parse_time(getattr(args, "since", None), "--since")
    until = parse_time(getattr(args, "until", None), "--until")
    if since and until and since >= until:
        raise UsageError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until "
                         f"({until:%Y-%m-%d %H:%M})")
    values: dict = {}
    for dim in filter_dimensions():
        value = getattr(args, _dest(dim.flag or ""), None)
        values[dim.field] = tuple(value) if isinstance(value, list) else value
    if values.get("user_agent"):
        try:
            re.compile(values["user_agent"])
        except re.error as exc:
            raise UsageError(f"--user-agent {values['user_agent']!r} is not a valid regex "
                             f"({exc})") from None
    return Filter(since=since, until=until, **values)


make_filter = filter_from_args  # its earlier name


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")
