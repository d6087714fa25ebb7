"""What an upgrade target accepts: its API range and its documentation, as data with sources.

db/data/upgrade-targets.csv names each known target (`engine 29.0`: API 1.52, floor 1.44,
moby PR 51186) and whether it enforces the range: the Engine answers a version outside it with
400 ("client version 1.41 is too old"), Podman serves any version. Implementations recorded in
a store are targets too (db.upgrade_targets.recorded); their floor is their own MinAPIVersion.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from dockdrift.db import podman_tables, tables

TARGETS_FILE = Path(__file__).parent / "data" / "upgrade-targets.csv"


def api_key(v: str | None) -> tuple[int, ...]:
    """"1.44" -> (1, 44): API versions compare as numbers (1.9 < 1.10)."""
    return tables.version_key(v or "")


@dataclass(frozen=True)
class Target:
    name: str  # engine 29.0
    kind: str  # engine | podman | swarm
    version: str
    max_api: str | None
    min_api: str | None
    enforced: bool  # refuses versions outside [min_api, max_api] with 400
    documented: str  # spec | podman: which documentation tells its routes
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


@lru_cache(maxsize=1)
def known(path: Path = TARGETS_FILE) -> tuple[Target, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        return tuple(Target(r["name"], r["kind"], r["version"], r["max_api"] or None,
                            r["min_api"] or None, r["enforced"] == "yes", r["documented"],
                            r["source"]) for r in csv.DictReader(f))


def find(name: str, extra: tuple[Target, ...] = ()) -> Target | None:
    """`engine 29.0` exactly; else the newest known target whose name starts with it
    (`engine 28` -> engine 28.5); recorded implementations (`extra`) are matched exactly."""
    wanted = " ".join(name.lower().split())
    for t in (*extra, *known()):
        if t.name.lower() == wanted:
            return t
    found = [t for t in known() if t.name.lower().startswith(wanted + ".")]
    return max(found, key=lambda t: api_key(t.version)) if found else None


def for_implementation(kind: str, version: str, min_api: str | None) -> Target:
    """A recorded implementation (`engine 28.5.2+dfsg4`, its MinAPIVersion) as a target: the
    known row of its release gives the maximum; the recorded floor wins over the row's."""
    name = f"{kind} {version}"
    rows = [t for t in known() if t.kind == kind and (
        version == t.version or version.startswith(t.version + "."))]
    base = max(rows, key=lambda t: len(t.version)) if rows else Target(
        name, kind, version, None, None, kind == "engine", "podman" if kind == "podman" else "spec",
        "recorded")
    return replace(base, name=name, version=version, min_api=min_api or base.min_api,
                   source=f"recorded in the store (MinAPIVersion {min_api or 'not recorded'})"
                          + (f"; maximum from {base.name}: {base.source}" if rows else ""))


def recorded(engine: Engine) -> tuple[Target, ...]:
    """Every implementation recorded in a store, as a target with its recorded floor."""
    from sqlalchemy import func, select

    from dockdrift.db.models import Exchange as E

    with engine.connect() as conn:
        rows = conn.execute(select(E.target, E.target_version, func.max(E.min_api_version))
                            .where(E.target.is_not(None), E.target_version.is_not(None))
                            .group_by(E.target, E.target_version)).all()
    return tuple(for_implementation(k, v, m) for k, v, m in rows)


def documented_routes(target: Target) -> tuple[str, set[tuple[str, str]]]:
    """(table name, {(method, route)}) of the documentation nearest at or below the target."""
    if target.documented == "podman":
        files = podman_tables.podman_files()
        if not files:
            return "", set()
        pick = _nearest(list(files), target.version) or max(files, key=api_key)
        return f"podman {pick}", {(r.method, r.route) for r in podman_tables.read_podman(pick)}
    pick = _nearest(list(tables.spec_files()), target.max_api or "")
    if pick is None:
        return "", set()
    return f"spec {pick}", {(r.method, r.route) for r in tables.read_spec(pick)}


def _nearest(versions: list[str], wanted: str) -> str | None:
    below = [v for v in versions if api_key(v) <= api_key(wanted)]
    return max(below, key=api_key) if below else None
