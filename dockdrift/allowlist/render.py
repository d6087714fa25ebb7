"""An observed allowlist as HAProxy configuration, socket-proxy flags, JSON or text.

Every regex comes from `db.allowlist.route_regex`, every rule order from `db.allowlist.rules`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from dockdrift.db import allowlist
from dockdrift.allowlist.core import USER_AGENTS_MAX, Observed, RouteUse, selection_dict
from dockdrift.analysis.filter import Filter
from dockdrift.endpoint import Endpoint
from dockdrift.db.version import package_version

# HAProxy before 3.1 drops the upgrade of a request that has a body (haproxy issue 2684):
# the daemon then answers 200 and the docker CLI says "unable to upgrade to tcp, received 200".
# `docker exec` starts with such a request; `docker run` and `attach` do not (no body).
HAPROXY_UPGRADE_WITH_BODY = "exec start (docker exec) cannot pass HAProxy < 3.1"


@dataclass(frozen=True)
class Source:
    """Where the allowlist was learned: for the header of every format."""

    db: str
    selection: Filter
    generated: datetime

    @staticmethod
    def now(db: str, selection: Filter) -> Source:
        return Source(db, selection, datetime.now(UTC).replace(tzinfo=None, microsecond=0))


def _ts(t: datetime | None) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None


def _summary(obs: Observed, src: Source) -> str:
    flt = ", ".join(f"{k} {v}" for k, v in selection_dict(src.selection).items() if v)
    span = f"{_ts(obs.first)} .. {_ts(obs.last)} UTC" if obs.first else "no exchanges"
    return (f"{len(obs.routes)} routes seen in {obs.exchanges} exchanges of {src.db} ({span})"
            + (f"; filter: {flt}" if flt else ""))


def _excluded(obs: Observed) -> str:
    return (f"never allowed: {obs.unknown} requests of unknown (or Podman-only) routes, {obs.denied} denied "
            f"requests, {obs.percent_encoded} requests with a percent-encoded path")


def _pairs(obs: Observed) -> list[tuple[str, str]]:
    return [(u.method, u.route) for u in obs.routes]


def exec_start_allowed(obs: Observed) -> bool:
    return any(u.method == "POST" and u.route.startswith("/exec/") and u.route.endswith("/start")
               for u in obs.routes)


def to_json(obs: Observed, src: Source, per_client: bool = False) -> str:
    """The allowlist document; `dockdrift capture --enforce` reads it back (db.allowlist).
    `per_client`: each route names the client families that used it (rules per client)."""
    doc = {
        "dockdrift_allowlist": allowlist.FORMAT_VERSION,
        "dockdrift_version": package_version(),
        "generated_at": _ts(src.generated),
        "source": {"db": src.db, "filter": selection_dict(src.selection), "exchanges": obs.exchanges,
                   "first": _ts(obs.first), "last": _ts(obs.last),
                   "never_allowed": {"unknown_route": obs.unknown, "denied": obs.denied,
                                     "percent_encoded": obs.percent_encoded}},
        "routes": [_route_dict(u, per_client) for u in obs.routes],
        "deny_before": [{"method": r.method, "route": r.route, "regex": r.regex,
                         "shadows": r.shadows}
                        for r in allowlist.rules(_pairs(obs)) if not r.allow],
    }
    return json.dumps(doc, indent=2) + "\n"


def _route_dict(u: RouteUse, per_client: bool = False) -> dict[str, object]:
    return {"method": u.method, "route": u.route, "handler": u.handler, "count": u.count,
            "first_seen": _ts(u.first_seen), "last_seen": _ts(u.last_seen),
            "regex": allowlist.route_regex(u.route),
            "user_agents": sorted(u.user_agents)[:USER_AGENTS_MAX],
            **({"clients": sorted(u.clients)} if per_client else {})}


def to_text(obs: Observed, src: Source) -> str:
    width = max([len(u.route) for u in obs.routes] + [5])
    lines = [f"dockdrift allowlist: {_summary(obs, src)}", "",
             f"{'METHOD':<7} {'ROUTE':<{width}} {'COUNT':>7}  LAST SEEN (UTC)"]
    lines += [f"{u.method:<7} {u.route:<{width}} {u.count:>7}  {_ts(u.last_seen)}"
              for u in obs.routes]
    return "\n".join([*lines, "", _excluded(obs), ""])


def to_socket_proxy(obs: Observed, src: Source, listen: Endpoint, upstream: Endpoint) -> str:
    """wollomatic/socket-proxy flags, one argument per line (RE2; it matches the decoded
    path, which holds no '%' when the raw one holds none either: the regexes refuse '%')."""
    lines = [f"# socket-proxy flags from dockdrift {package_version()}, {_ts(src.generated)} UTC:",
             f"# {_summary(obs, src)}", "# One argument per line; quote each in a shell.",
             "# socket-proxy answers 405 to a method not listed here, 403 to a path."]
    shadowed = [r for r in allowlist.rules(_pairs(obs)) if not r.allow]
    for r in shadowed:  # RE2 has no lookahead: first-match-wins cannot be expressed
        lines.append(f"# WARNING: {r.method} {r.route} is not allowed, but the regex of "
                     f"{r.shadows} matches its paths too")
    lines.append(f"-socketpath={upstream.path}" if upstream.kind == "unix"
                 else f"# upstream {upstream.url()}: socket-proxy needs a unix socket")
    if listen.kind == "unix":
        lines += [f"-proxysocketendpoint={listen.path}", "-proxysocketendpointfilemode=0660"]
    else:
        lines += [f"-listenip={listen.host}", f"-proxyport={listen.port}"]
    by_method: dict[str, list[str]] = {}
    for u in obs.routes:
        by_method.setdefault(u.method, []).append(allowlist.route_regex(u.route))
    lines += [f"-allow{m}={'|'.join(rx)}" for m, rx in sorted(by_method.items())]
    return "\n".join(lines) + "\n"
