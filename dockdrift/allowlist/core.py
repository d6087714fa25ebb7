"""Which (method, route template) pairs the capture saw: one GROUP BY, no pandas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, select, true

from dockdrift.analysis.filter import Filter
from dockdrift.db.allowlist import docker_router
from dockdrift.db.clients import identify
from dockdrift.db.models import Exchange

USER_AGENTS_MAX = 10  # per route in the JSON: who uses it


def Selection(*, recorder: str | None = None, client: str | None = None,  # noqa: N802
              **fields: object) -> Filter:
    """The allowlist's earlier filter class, now the one Filter: its `recorder` and `client`
    (one value each) become Filter's `recorders` and `clients`."""
    return Filter(recorders=(recorder,) if recorder else (),
                  clients=(client,) if client else (), **fields)  # type: ignore[arg-type]


def selection_dict(flt: Filter) -> dict[str, object]:
    """The filter as the generated files state it (`source.filter` of the JSON): the keys of
    earlier versions (`recorder`: one name, or several joined by commas) and the new ones."""
    recorders = list(flt.recorders)
    return {"since": _iso(flt.since), "until": _iso(flt.until),
            "recorder": ",".join(recorders) or None, "target": flt.target,
            "user_agent": flt.user_agent, "method": flt.method, "route": flt.route,
            "implementations": list(flt.implementations) or None,
            "client": ",".join(flt.clients) or None}


@dataclass
class RouteUse:
    method: str
    route: str
    handler: str | None
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    user_agents: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)  # client families (db.clients)

    def add(self, n: int, first: datetime, last: datetime, user_agent: str | None,
            client: str | None = None) -> None:
        self.count += n
        self.first_seen = min(filter(None, (self.first_seen, first)))
        self.last_seen = max(filter(None, (self.last_seen, last)))
        if user_agent:
            self.user_agents.add(user_agent)
        if client:
            self.clients.add(client)


@dataclass
class Observed:
    """The routes to allow, and what was left out (never allowed)."""

    routes: list[RouteUse]
    exchanges: int = 0  # selected by the filters (all of them, also the ones left out)
    unknown: int = 0  # route NULL (no table knows it), or only Podman's table (libpod API)
    denied: int = 0  # refused by an earlier allowlist
    percent_encoded: int = 0  # on an allowed route, but the path holds '%': refused anyway
    first: datetime | None = None
    last: datetime | None = None


def observe(engine: Engine, sel: Filter = Filter()) -> Observed:
    """Aggregate per (method, route, handler, user agent, denied) in SQL, under the one
    Filter (its --user-agent regex too: SQLAlchemy's regexp_match)."""
    denied = Exchange.denied.is_(True)
    cols = [Exchange.method, Exchange.route, Exchange.handler, Exchange.user_agent,
            case((denied, 1), else_=0), Exchange.client_name]
    percent = func.sum(case((Exchange.path.contains("%", autoescape=True), 1), else_=0))
    stmt = (select(*cols, func.count(), func.min(Exchange.started_at),
                   func.max(Exchange.started_at), percent)
            .where(and_(true(), *sel.where())).group_by(*cols))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    out = Observed([])
    docker = set(docker_router().templates())
    uses: dict[tuple[str, str], RouteUse] = {}
    for method, route, handler, ua, was_denied, client, n, first, last, pct in rows:
        first, last = _dt(first), _dt(last)
        out.exchanges += n
        out.first = min(filter(None, (out.first, first)))
        out.last = max(filter(None, (out.last, last)))
        if was_denied:
            out.denied += n
        elif (method, route) not in docker:
            out.unknown += n
        else:
            out.percent_encoded += int(pct or 0)
            use = uses.setdefault((method, route), RouteUse(method, route, handler))
            use.add(n, first, last, ua, client or identify(ua)[0])
    out.routes = sorted(uses.values(), key=lambda u: (u.route, u.method))
    return out


def _dt(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None
