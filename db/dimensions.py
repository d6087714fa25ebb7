"""Dimensions are data: what reports group and filter exchanges by, declared once.

Each Dimension says which `exchanges` columns hold it (its GROUP BY keys), the filter flag every
command that reads exchanges offers for it, its columns in `exchange_rollups` (none: pruned days
cannot be split by it), whether an index leads with it, and how a filter value matches.
`analysis.filter.Filter` builds its WHERE clauses from here, `--by DIM` its sections, the
commands' shared flags (dockdrift.commands.options) their options.

Plain data, importable without SQLAlchemy (the commands build their flags from it at
`--help`); the SQL is built when a query asks. Adding a dimension: one Dimension below (and its extractor on the recording side, which fills
the columns). A dimension with a `flag` (and `field`, the Filter attribute) filters on every
command that reads exchanges; `shape` has none yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dockdrift.db.basics import StoreError
from dockdrift.db.implementations import TARGET_NAMES

# How a filter value selects rows.
EQUAL, UPPER, ROUTE, REGEX, LABEL = "equal", "upper", "route", "regex", "label"


@dataclass(frozen=True)
class Dimension:
    name: str
    columns: tuple[str, ...]  # exchanges columns, the GROUP BY keys in this order
    flag: str | None = None  # the filter flag (None: group by it, no filter flag yet)
    field: str | None = None  # the analysis.filter.Filter attribute its flag fills
    rollup: tuple[str, ...] = ()  # the same keys in exchange_rollups; (): not kept there
    indexed: bool = False  # an index of exchanges leads with it: filtering it is cheap
    match: str = EQUAL
    fallback: str | None = None  # read when columns[0] is NULL (rows recorded before it)
    repeat: bool = False  # the flag may be given several times (any of the values)
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    help: str = ""
    expression: Callable[[], Any] | None = None  # a computed key instead of plain columns

    def keys(self, model: type | None = None) -> list[Any]:
        """The GROUP BY keys on `exchanges` (or on `exchange_rollups`)."""
        from sqlalchemy import func

        from dockdrift.db.models import Exchange, Rollup

        if model is Rollup:
            if not self.rollup:
                raise StoreError(f"the daily rollups keep no {self.name}: a window that reads "
                                 f"pruned days cannot be split or filtered by {self.name}")
            return [getattr(Rollup, c) for c in self.rollup]
        if self.expression is not None:
            return [self.expression().label(self.name)]
        cols: list[Any] = [getattr(Exchange, c) for c in self.columns]
        if self.fallback:
            cols[0] = func.coalesce(cols[0], getattr(Exchange, self.fallback))
        return cols

    def condition(self, values: Iterable[str], model: type | None = None) -> Any:
        """Rows whose dimension matches any of `values` (a SQLAlchemy condition)."""
        from sqlalchemy import or_

        values = tuple(values)
        if model is not None and not self.rollup and model.__name__ == "Rollup":
            from sqlalchemy import false

            return false()  # the rollups keep no such column: no pruned row matches
        key = self.keys(model)
        if self.match == UPPER:
            return key[0].in_([v.upper() for v in values])
        if self.match == ROUTE:
            return or_(*[key[0] == v if "{" in v else key[0].contains(v, autoescape=True)
                         for v in values])
        if self.match == REGEX:
            return or_(*[key[0].regexp_match(v) for v in values])
        if self.match == LABEL:
            return or_(*[_label(key, v) for v in values])
        return key[0].in_(values)


def _label(key: list[Any], label: str) -> Any:
    """A label -> its conditions: `docker-py 7.2.0` (client: family [version]) or an
    implementation's (db.implementations.implementation_label: `engine 26.1.5+dfsg1`, with
    ` (min API 1.44)` when its floor is not the release's default). `unknown` is NULL."""
    from sqlalchemy import and_, or_

    from dockdrift.db.implementations import default_floor

    text, _, floor = label.strip().partition(" (min API ")
    parts = text.split(" ")
    conds = [col.is_(None) if part == "unknown" else col == part
             for col, part in zip(key, parts, strict=False)]
    if len(key) == 3:  # an implementation: the floor is part of it
        if floor:
            conds.append(key[2] == floor.rstrip(")"))
        else:
            default = default_floor(*(None if p == "unknown" else p for p in (parts + [""])[:2]))
            conds.append(or_(key[2].is_(None), key[2] == default) if default
                         else key[2].is_(None))
    return and_(*conds)


def outcome_expr() -> Any:
    """What a 2xx hides, as one label: denied, the exit status, or an error in the stream (the
    `outcome` dimension; db.rollup stores it per day)."""
    from sqlalchemy import String, case, literal
    from sqlalchemy import cast as sql_cast

    from dockdrift.db.models import Exchange

    return case(
        (Exchange.denied.is_(True), literal("denied")),
        (Exchange.exit_code.is_not(None),
         literal("exit ") + sql_cast(Exchange.exit_code, String)),
        (Exchange.stream_error.is_not(None), literal("error in stream")),
        else_=None)


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("target", ("target",), "--target", "target", ("target",), indexed=True,
              choices=tuple(sorted(TARGET_NAMES)), help="only this upstream kind"),
    Dimension("implementation", ("target", "target_version", "min_api_version"),
              "--implementation", "implementations",
              ("target", "target_version", "min_api_version"), match=LABEL, repeat=True,
              metavar="LABEL",
              help='only this implementation, e.g. "podman 4.3.1" (target and version, as '
                   "`dockdrift matrix` labels them; repeatable)"),
    Dimension("method", ("method",), "--method", "method", ("method",), match=UPPER,
              help="only this HTTP method"),
    Dimension("route", ("route",), "--route", "route", ("route",), match=ROUTE,
              help="a route template, or a substring of one (e.g. /containers)"),
    Dimension("recorder", ("recorder",), "--recorder", "recorders", ("recorder",),
              repeat=True, metavar="NAME",
              help="only exchanges seen by this recorder (repeat for several)"),
    Dimension("user_agent", ("user_agent",), "--user-agent", "user_agent", match=REGEX,
              metavar="REGEX",
              help="only clients whose User-Agent matches (Python regex, searched)"),
    Dimension("probe_case", ("probe_case",), help="the dockdrift probe case (NULL: passive)"),
    Dimension("outcome", (), rollup=("outcome",), expression=outcome_expr,
              help="what a 2xx hides: denied, the exit status, an error in the stream"),
    # db.clients' extractor fills client_name/client_version (from the User-Agent, the peer).
    Dimension("client", ("client_name", "client_version"), "--client", "clients", match=LABEL,
              repeat=True, metavar="NAME",
              help="only exchanges of this client: a family (docker-cli, docker-py, curl) or "
                   "'family version' (repeat for several; see dockdrift clients)"),
    # Declared for the shapes work: its extractor fills these columns.
    Dimension("shape", ("request_shape", "response_shape"),
              help="the JSON body shapes (keys into `shapes`)"),
)}

# `--by DIM`: the dimensions a report can be split by, one section per value (each needs an
# exact filter field to narrow a section: route matches substrings, so it is not here).
BY_DIMENSIONS = ("recorder", "client", "target", "implementation", "method")


def filter_dimensions() -> list[Dimension]:
    """The dimensions with a filter flag, in declaration order."""
    return [d for d in DIMENSIONS.values() if d.flag]
