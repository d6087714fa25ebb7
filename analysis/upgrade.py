"""Will the upgrade target refuse my clients? One verdict per recorded client.

- `breaks`: some request carried an API version below the target's floor or above its
  maximum, which the target answers with 400 ("client version 1.41 is too old").
- `at-risk`: a route the client used is not in the target's documentation (removed, or never
  documented there); version-less requests are served at the target's own API version, so
  they are checked the same way.
- `ok`: otherwise.
Pure: takes the clients (analysis.clients) and a target (db.upgrade_targets), returns data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockdrift.analysis.clients import Client, Clients
from dockdrift.db.routes import route_shape
from dockdrift.db.version import version_info
from dockdrift.db.upgrade_targets import Target, api_key

EXAMPLES = 5
# Engine routes every version serves that its swagger leaves out (the CLI's HEAD /_ping is
# documented from 1.40 on; BuildKit's session and gRPC hijacks are registered, not documented).
ALWAYS_SERVED = frozenset({("POST", "/session"), ("POST", "/grpc")})


@dataclass
class Verdict:
    client: Client
    verdict: str  # breaks | at-risk | ok
    reasons: list[str] = field(default_factory=list)
    examples: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused_api_versions: list[str] = field(default_factory=list)  # what the target refuses

    def to_dict(self) -> dict[str, Any]:
        c = self.client
        return {"client": c.client, "version": c.version, "user_agent": c.user_agent,
                "process": c.process, "verdict": self.verdict, "reasons": self.reasons,
                "examples": self.examples, "notes": self.notes,
                "refused_api_versions": self.refused_api_versions}


@dataclass(frozen=True)
class Upgrade:
    target: Target
    documentation: str  # which table the routes were checked against ("" = none)
    verdicts: list[Verdict]

    @property
    def breaks(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.verdict == "breaks"]

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {"to": t.name, "min_api_version": t.min_api, "max_api_version": t.max_api,
                "enforced": t.enforced, "documentation": self.documentation,
                "source": t.source, "clients": [v.to_dict() for v in self.verdicts],
                "dockdrift": version_info()}


def normalize(method: str, route: str) -> tuple[str, str]:
    """A route whatever its variables are called or match: Engine 1.51's
    `/networks/{networkid:.*}`, 1.52's `/networks/{id:.+}` and Podman's `{name}` are one route."""
    return method, route_shape(route)


def _documented(docs: set[tuple[str, str]]) -> tuple[set[tuple[str, str]], set[str]]:
    norm = {normalize(m, r) for m, r in docs}
    return norm, {r for m, r in norm if m == "*"}


def negotiation(client: Client, api: str, target: Target,
                ceiling: Callable[[str, str], str | None]) -> str | None:
    """How a negotiating client (a version-less ping or /version first: the docker CLI,
    compose, docker-py `auto`, the Go SDK) meets a target that refuses its recorded `api`:
    "down" when `api` is above the target's maximum (it will ask for the target's, served);
    "unknown" when `api` is below the floor but was the recorded server's maximum (it asks for
    its own newest there, which the store cannot tell); None: refused for sure (a pinned
    client, or a version below what the server offered: the client's own newest)."""
    if not client.negotiates:
        return None
    served = client.served.get(api, set())
    ceilings = [ceiling(k, v) for k, v in served]
    if not served or any(c is None or api_key(api) > api_key(c) for c in ceilings):
        return None
    if target.max_api and api_key(api) > api_key(target.max_api):
        return "down"
    return "unknown" if all(c == api for c in ceilings) else None


def judge(client: Client, target: Target, docs: set[tuple[str, str]] | None,
          ceiling: Callable[[str, str], str | None] = lambda _k, _v: None,
          fields: list[str] | None = None) -> Verdict:
    """The verdict for one client; `docs` None: no route check (e.g. --min-api alone);
    `ceiling(kind, version)`: a recorded implementation's maximum API, when known."""
    v = Verdict(client, "ok")
    refused: dict[str, int] = {}
    unsure: list[str] = []
    for (method, _route, api), (n, path) in sorted(client.uses.items()):
        why = target.refuses(api) if api else None
        if why is None:
            continue
        how = negotiation(client, api, target, ceiling)
        if how == "down":
            note = (f"API {api} is above {target.name}'s maximum, but the client negotiates: "
                    f"it asks for {target.max_api} there")
            if note not in v.notes:
                v.notes.append(note)
            continue
        if how == "unknown":
            unsure.append(f"negotiated API {api}, the recorded server's maximum: on "
                          f"{target.name} it asks for its own newest, refused if that is "
                          f"below {target.min_api}")
            continue
        refused[why] = refused.get(why, 0) + n
        if len(v.examples) < EXAMPLES:
            v.examples.append({"method": method, "path": path, "api_version": api})
    if refused:
        v.verdict = "breaks"
        v.refused_api_versions = sorted({api for (_, _, api) in client.uses
                                         if api and target.refuses(api)
                                         and not negotiation(client, api, target, ceiling)},
                                        key=api_key)
        v.reasons = [f"{why} ({n} requests)" for why, n in sorted(refused.items())]
        return v
    if unsure:  # negotiated below the floor: its own newest version decides
        v.verdict, v.reasons = "at-risk", sorted(set(unsure))
    versionless = sum(n for (_, _, api), (n, _) in client.uses.items() if not api)
    if versionless and target.max_api:
        v.notes.append(f"{versionless} version-less requests are served at API "
                       f"{target.max_api} by {target.name}")
    if docs is None:
        return v
    norm, any_method = _documented(docs)
    missing = sorted({(m, r) for (m, r, _), _ in client.uses.items() if r
                      and (m, r) not in ALWAYS_SERVED and normalize(m, r) not in norm
                      and normalize(m, r)[1] not in any_method})
    if missing or fields:
        v.verdict = "at-risk"
        v.reasons = [f"{m} {r} is not in {target.name}'s documentation" for m, r in missing]
        v.reasons += fields or []
        for (m, r, api), (_, path) in sorted(client.uses.items()):
            if (m, r) in missing and len(v.examples) < EXAMPLES:
                v.examples.append({"method": m, "path": path, "api_version": api})
    return v


def assess(clients: Clients, target: Target, documentation: str,
           docs: set[tuple[str, str]] | None,
           ceiling: Callable[[str, str], str | None] = lambda _k, _v: None,
           fields: dict[tuple[str, str, str], list[str]] | None = None) -> Upgrade:
    """Every client's verdict, those that break first."""
    order = {"breaks": 0, "at-risk": 1, "ok": 2}
    verdicts = [judge(c, target, docs, ceiling, (fields or {}).get(c.key))
                for c in clients.clients]
    verdicts.sort(key=lambda v: (order[v.verdict], -v.client.exchanges, v.client.key))
    return Upgrade(target, documentation if docs is not None else "", verdicts)


def floor_target(min_api: str, base: Target | None) -> Target:
    """`--min-api 1.40` alone (a daemon started with DOCKER_MIN_API_VERSION=1.40), or over
    `--to`'s target: the same target with that floor."""
    from dataclasses import replace

    if base is None:
        return Target(f"API floor {min_api}", "engine", "", None, min_api, True, "",
                      f"--min-api {min_api}")
    return replace(base, name=f"{base.name} (min-api {min_api})", min_api=min_api,
                   source=f"{base.source}; floor set by --min-api {min_api}")


def check_api(text: str) -> bool:
    return bool(re.fullmatch(r"\d+\.\d+", text)) and api_key(text) >= (1, 0)
