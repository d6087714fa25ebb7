"""Which (method, route template) pairs the capture saw: one GROUP BY, no pandas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, select, true

from dockdrift.db.allowlist import docker_router
from dockdrift.db.clients import identify
from dockdrift.db.models import Exchange

USER_AGENTS_MAX = 10  # per route in the JSON: who uses it


@dataclass(frozen=True)
class Selection:
    """Which exchanges teach the allowlist. Times are naive UTC; user_agent is a regex."""

    since: datetime | None = None
    until: datetime | None = None
    recorder: str | None = None
    target: str | None = None
    user_agent: str | None = None
    client: str | None = None  # a client family (docker-cli) or "family version"

    def where(self) -> list:
        conds = []
        if self.since is not None:
            conds.append(Exchange.started_at >= self.since)
        if self.until is not None:
            conds.append(Exchange.started_at < self.until)
        if self.recorder:
            conds.append(Exchange.recorder == self.recorder)
        if self.target:
            conds.append(Exchange.target == self.target)
        if self.client:
            name, _, version = self.client.strip().partition(" ")
            conds.append(Exchange.client_name == name)
            if version:
                conds.append(Exchange.client_version == version)
        return conds

    def to_dict(self) -> dict[str, str | None]:
        return {"since": _iso(self.since), "until": _iso(self.until), "recorder": self.recorder,
                "target": self.target, "user_agent": self.user_agent, "client": self.client}


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


def observe(engine: Engine, sel: Selection = Selection()) -> Observed:
    """Aggregate per (method, route, handler, user agent, denied) in SQL; the user-agent regex
    is applied to those few groups (SQLite has no portable REGEXP)."""
    try:
        agent = re.compile(sel.user_agent) if sel.user_agent else None
    except re.error as exc:
        from dockdrift.analysis.errors import AnalysisError

        raise AnalysisError(f"--user-agent {sel.user_agent!r} is not a valid regex ({exc})") from None
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
        if agent is not None and not agent.search(ua or ""):
            continue
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
