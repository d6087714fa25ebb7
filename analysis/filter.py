"""Which exchanges a report, drift window, matrix or allowlist looks at: one Filter for all.

The time window is the Filter's own; every other condition comes from the dimension
declarations (db.dimensions), so a new dimension with a flag filters everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from dockdrift.db.dimensions import DIMENSIONS, filter_dimensions
from dockdrift.db.models import Exchange, Rollup


@dataclass(frozen=True)
class Filter:
    """Times are naive UTC; every other field names a dimension's filter values (None or ():
    no condition). A tuple means any of its values."""

    since: datetime | None = None
    until: datetime | None = None
    target: str | None = None
    method: str | None = None
    route: str | None = None  # exact template, or a substring when it contains no '{'
    recorders: tuple[str, ...] = ()  # any of these recorders; () = all
    user_agent: str | None = None  # a regex, searched
    implementations: tuple[str, ...] = ()  # labels, `podman 4.3.1`
    clients: tuple[str, ...] = ()  # client families (docker-cli) or "family version"; () = all

    def values(self) -> dict[str, tuple[str, ...]]:
        """{dimension name: the values it must match} for the dimensions this filter sets."""
        out = {}
        for dim in filter_dimensions():
            value = getattr(self, dim.field or "", None)
            if value:
                out[dim.name] = (value,) if isinstance(value, str) else tuple(value)
        return out

    def where(self, model: type = Exchange) -> list:
        """The conditions on `exchanges` (or on `exchange_rollups`, whose days overlap the
        window: a window read from rollups is widened to whole days)."""
        conds = []
        if model is Rollup:
            if self.since is not None:
                conds.append(Rollup.day > self.since - timedelta(days=1))
            if self.until is not None:
                conds.append(Rollup.day < self.until)
        else:
            if self.since is not None:
                conds.append(Exchange.started_at >= self.since)
            if self.until is not None:
                conds.append(Exchange.started_at < self.until)
        for name, values in self.values().items():
            conds.append(DIMENSIONS[name].condition(values, model))
        return conds

    def narrowed(self, dimension: str, value: str) -> Filter:
        """This filter restricted to one value of a dimension (one `--by` section)."""
        from dataclasses import replace

        field = DIMENSIONS[dimension].field
        if field is None:
            raise ValueError(f"{dimension} has no filter field")
        current = getattr(self, field)
        return replace(self, **{field: (value,) if isinstance(current, tuple) else value})

    def is_set(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))
