"""What an upgrade target accepts: its API range and its documentation.

The releases, their newest API version and their default floor are db.implementations.RELEASES
(one row per release, with sources): `engine 29.0` is API 1.52 with floor 1.44 (moby PR 51186).
What a kind does with a version outside that range is ENFORCES below: the Engine answers it
with 400 ("client version 1.41 is too old"), Podman serves it. Implementations recorded in a
store are targets too (`recorded`); their floor is their own MinAPIVersion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine

from dockdrift.db import podman_tables, tables
from dockdrift.db.implementations import RELEASES, Release, implementation_label, release_of

# Measured here: Engine 20.10, 26.1 and 28.5 answer /v1.11 and /v1.60 with 400 (too old, too
# new); Podman 4.3.1 and 5.8.6 answer /v1.0/version, /v1.12/version, /v1.60/version with 200.
ENFORCES = {"engine": True, "podman": False}


def api_key(v: str | None) -> tuple[int, ...]:
    """"1.44" -> (1, 44): API versions compare as numbers (1.9 < 1.10)."""
    return tables.version_key(v or "")


@dataclass(frozen=True)
class Target:
    name: str  # engine 29.0
    kind: str  # engine | podman
    version: str
    max_api: str | None
    min_api: str | None
    enforced: bool  # refuses versions outside [min_api, max_api] with 400
    documented: str  # spec | podman | "": which documentation tells its routes
    source: str

    def refuses(self, api_version: str) -> str | None:
        """Why the target answers a request at `api_version` with 400, or None."""
        if not self.enforced:
            return None
        if self.min_api and api_key(api_version) < api_key(self.min_api):
            return f"API {api_version} is below the minimum {self.min_api} ({self.name})"
        if self.max_api and api_key(api_version) > api_key(self.max_api):
            return f"API {api_version} is above the maximum {self.max_api} ({self.name})"
        return None


def _target(name: str, version: str, r: Release) -> Target:
    return Target(name, r.kind, version, r.api_version, r.min_api_version,
                  ENFORCES.get(r.kind, True), "podman" if r.kind == "podman" else "spec",
                  f"{r.kind} {r.since}: {r.source} (db.implementations.RELEASES)")


def known() -> tuple[Target, ...]:
    """One target per release row: `engine 20.10` ... `engine 29.3`, `podman 4.3`, ..."""
    return tuple(_target(f"{r.kind} {r.since}", r.since, r) for r in RELEASES
                 if r.api_version is not None)


def find(name: str, extra: tuple[Target, ...] = ()) -> Target | None:
    """`engine 29.0`, `engine 28.5` (the release row it falls in), `engine 28` or `podman 5`
    (the newest row of that major); recorded implementations (`extra`) match exactly."""
    wanted = " ".join(name.lower().split())
    for t in extra:
        if t.name.lower() == wanted:
            return t
    kind, _, version = wanted.partition(" ")
    if not version or not version[0].isdigit():
        return None
    if "." not in version:  # a major: its newest row
        rows = [r for r in RELEASES if r.kind == kind and r.since.split(".")[0] == version
                and r.api_version is not None]
        return _target(wanted, rows[-1].since, rows[-1]) if rows else None
    r = release_of(kind, version)
    if r is None or r.api_version is None or version.split(".")[0] != r.since.split(".")[0]:
        return None  # before the first row, or a major the data does not know
    return _target(wanted, version, r)


def for_implementation(kind: str, version: str, min_api: str | None) -> Target:
    """A recorded implementation (`engine 28.5.2+dfsg4`, its MinAPIVersion) as a target: its
    release row gives the maximum; the recorded floor wins over the row's default."""
    name = implementation_label(kind, version, min_api)
    r = release_of(kind, version)
    base = _target(name, version, r) if r is not None else Target(
        name, kind, version, None, None, ENFORCES.get(kind, True),
        "podman" if kind == "podman" else "spec", "recorded")
    return replace(base, name=name, min_api=min_api or base.min_api,
                   source=f"recorded in the store (MinAPIVersion {min_api or 'not recorded'})"
                          + (f"; {base.source}" if r is not None else ""))


def recorded(engine: Engine) -> tuple[Target, ...]:
    """Every implementation recorded in a store, as a target with its recorded floor."""
    from sqlalchemy import func, select

    from dockdrift.db.models import Exchange as E

    with engine.connect() as conn:
        rows = conn.execute(select(E.target, E.target_version, E.min_api_version)
                            .where(E.target.is_not(None), E.target_version.is_not(None))
                            .group_by(E.target, E.target_version, E.min_api_version)
                            .order_by(func.min(E.started_at))).all()
    return tuple(for_implementation(k, v, m) for k, v, m in rows)


def documented_routes(target: Target) -> tuple[str, set[tuple[str, str]]]:
    """(table name, {(method, route)}) of the documentation nearest at or below the target."""
    if target.documented == "podman":
        files = podman_tables.podman_files()
        if not files:
            return "", set()
        n = len(api_key(target.version))  # podman 5.8 -> the 5.8.x table
        below = [v for v in files if api_key(v)[:n] <= api_key(target.version)]
        pick = max(below or list(files), key=api_key)
        return f"podman {pick}", {(r.method, r.route) for r in podman_tables.read_podman(pick)}
    pick = _nearest(list(tables.spec_files()), target.max_api or "")
    if pick is None:
        return "", set()
    return f"spec {pick}", {(r.method, r.route) for r in tables.read_spec(pick)}


def _nearest(versions: list[str], wanted: str) -> str | None:
    below = [v for v in versions if api_key(v) <= api_key(wanted)]
    return max(below, key=api_key) if below else None
