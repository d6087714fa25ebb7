"""Who calls the Docker API: per client (family, version, process), what it used and when.

Aggregated in SQL (one GROUP BY over client, route, API version and status code); rows from
before client identity was recorded (client_name NULL) are named from their User-Agent by the
same data rules (db.clients), so an old store answers too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, func, literal_column, null, select

from dockdrift.analysis.load import Filter
from dockdrift.db.clients import identify, label
from dockdrift.db.models import Exchange

PIDS_SHOWN = 20
NEGOTIATION = {("HEAD", "/_ping"), ("GET", "/_ping"), ("GET", "/version")}


@dataclass
class Client:
    client: str | None  # family: docker-cli, docker-py, curl, ... (None: no User-Agent)
    version: str | None
    process: str | None  # from the kernel: comm of the process behind the connection
    user_agent: str | None = None  # the most common raw agent
    exchanges: int = 0
    routes: set[tuple[str, str]] = field(default_factory=set)
    api_versions: Counter[str] = field(default_factory=Counter)  # "" = version-less
    status_codes: Counter[str] = field(default_factory=Counter)  # "none" = no answer
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    pids: set[int] = field(default_factory=set)
    uids: set[int] = field(default_factory=set)
    exes: set[str] = field(default_factory=set)
    agents: Counter[str] = field(default_factory=Counter)
    # (method, route, api_version) -> (count, an example path); used by `upgrade`
    uses: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    # api_version -> the implementations (target, target_version) that answered it
    served: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    # asked the server's version without a version first (HEAD/GET /_ping, GET /version):
    # the way the docker CLI, docker-py `auto` and the Go SDK negotiate
    negotiates: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.client or "", self.version or "", self.process or "")

    @property
    def label(self) -> str:
        return label(self.client, self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client, "version": self.version, "user_agent": self.user_agent,
            "process": self.process,
            "api_versions": dict(sorted(self.api_versions.items())),
            "exchanges": self.exchanges, "routes": len(self.routes),
            "status_codes": dict(sorted(self.status_codes.items())),
            "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
            "pids": sorted(self.pids)[-PIDS_SHOWN:], "uids": sorted(self.uids),
            "exe": sorted(self.exes),
        }


@dataclass(frozen=True)
class Clients:
    clients: list[Client]

    def to_dict(self) -> dict[str, Any]:
        from dockdrift.db.version import version_info

        return {"clients": [c.to_dict() for c in self.clients], "dockdrift": version_info()}


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None


def _ts(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _brief(flt: Filter) -> list[Select]:
    """The report's section: named rows read off ix_exchanges_clients alone (no table, no
    sort); rows without a client name (no User-Agent, or recorded before schema 3) grouped by
    their agent apart."""
    E = Exchange
    blank = [literal_column("''"), null()]
    tail = [E.api_version, E.status_code, null(), null(), func.count(), func.min(E.started_at),
            func.max(E.started_at), null()]
    named = [E.client_name, E.client_version, E.peer_process, E.api_version, E.status_code]
    unnamed = [E.user_agent, E.peer_process, E.api_version, E.status_code]
    return [select(null(), *named[:3], *blank, *tail).where(*flt.where(), E.client_name.is_not(
                None)).group_by(*named),
            select(E.user_agent, null(), null(), E.peer_process, *blank, *tail).where(
                *flt.where(), E.client_name.is_(None)).group_by(*unnamed)]


def load_clients(engine: Engine, flt: Filter | None = None, *, brief: bool = False) -> Clients:
    """Every client that matched `flt`, busiest first. `brief` (the report's section): no
    user agents of named clients, routes, implementations or pids: it reads an index only."""
    E = Exchange
    flt = flt or Filter()
    keys = [E.user_agent, E.client_name, E.client_version, E.peer_process]
    groups = [E.method, E.route, E.api_version, E.status_code, E.target, E.target_version]
    stmts = _brief(flt) if brief else [
        select(*keys, *groups, func.count(), func.min(E.started_at), func.max(E.started_at),
               func.min(E.path)).where(*flt.where()).group_by(*keys, *groups)]
    found: dict[tuple[str, str, str], Client] = {}
    with engine.connect() as conn:
        rows = [row for stmt in stmts for row in conn.execute(stmt)]
        for (ua, name, version, proc, method, route, api, code, kind, kind_version, n, first,
             last, path) in rows:
            c = _client(found, ua, name, version, proc)
            c.exchanges += n
            c.agents[ua or ""] += n
            if route:
                c.routes.add((method, route))
            c.api_versions[api or ""] += n
            c.status_codes[str(code) if code is not None else "none"] += n
            first, last = _ts(first), _ts(last)
            c.first_seen = min(filter(None, (c.first_seen, first)), default=None)
            c.last_seen = max(filter(None, (c.last_seen, last)), default=None)
            if kind and kind_version:
                c.served.setdefault(api or "", set()).add((kind, kind_version))
            if not api and (method, route) in NEGOTIATION:
                c.negotiates = True
            use = (method, route or "", api or "")
            before = c.uses.get(use, (0, path))
            c.uses[use] = (before[0] + n, before[1])
        if brief:
            return _sorted(found)
        peers = (select(*keys, E.peer_pid, E.peer_uid, E.peer_exe)
                 .where(*flt.where(), E.peer_uid.is_not(None))
                 .group_by(*keys, E.peer_pid, E.peer_uid, E.peer_exe)
                 .order_by(func.max(E.started_at).desc()).limit(5000))
        for ua, name, version, proc, pid, uid, exe in conn.execute(peers):
            c = _client(found, ua, name, version, proc)
            c.pids.update([pid] if pid is not None else [])
            c.uids.add(uid)
            c.exes.update([exe] if exe else [])
    return _sorted(found)


def _sorted(found: dict[tuple[str, str, str], Client]) -> Clients:
    for c in found.values():
        c.user_agent = c.agents.most_common(1)[0][0] or None
    return Clients(sorted(found.values(), key=lambda c: (-c.exchanges, c.key)))


def _client(found: dict[tuple[str, str, str], Client], ua: str | None, name: str | None,
            version: str | None, proc: str | None) -> Client:
    if name is None:  # recorded before client identity was: the same rules, read now
        name, version = identify(ua)
    key = (name or "", version or "", proc or "")
    if key not in found:
        found[key] = Client(name, version, proc)
    return found[key]
