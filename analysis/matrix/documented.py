"""Which documented codes apply to each implementation: the ONE adapter between the matrix and
the documented tables (analysis.compare), so a new table source changes this file only.

`--against`:
- `own`: each implementation against its own documentation: classic Swarm against the source
  document's Swarm column (seed), the Engine against its OpenAPI table nearest below each
  exchange's API version (spec), Podman against the Podman table when one is loaded (none
  yet: its documented codes are empty and its table is null).
- `seed`, `spec`, `spec:X`: every implementation against that table, as `dockdrift report`
  does (seed: Swarm column for swarm, Docker column for the others).
- `podman`: every implementation against the Podman table (an error while none is loaded).
"""

from __future__ import annotations

import pandas as pd

from analysis import compare
from analysis.compare import AgainstError
from db.tables import version_key

AGAINST = ["own", "seed", "spec", "spec:VERSION", "podman"]
OWN = {"swarm": "seed", "engine": "spec"}  # target -> table; podman: its own when loaded
PODMAN = "podman"
DOC_COLUMNS = ["target", "target_version", "method", "route", "api_version", "table", "absent",
               "codes"]


def check_against(against: str, documented: pd.DataFrame) -> None:
    """Raise AgainstError (the message lists what exists) when `against` names no table."""
    if against == "own":
        return
    if against == PODMAN:
        if not _podman_versions(documented):
            raise AgainstError("no Podman table is loaded (db/data); use --against own, seed, "
                               "spec or spec:VERSION")
        return
    compare.parse_against(against, compare.spec_versions(documented))


def documented_codes(keys: pd.DataFrame, documented: pd.DataFrame,
                     against: str = "own") -> pd.DataFrame:
    """keys (target, target_version, method, route, api_version) -> DOC_COLUMNS.

    `codes` is a sorted tuple of ints, `table` e.g. `spec-v1.41` (None: no table applies),
    `absent`: the table lists the route as not an API (n/a).
    """
    check_against(against, documented)
    keys = keys[KEY_COLUMNS].drop_duplicates()
    keys = keys[keys["route"].notna()]
    parts = []
    for target, group in keys.groupby(keys["target"].fillna(compare.UNKNOWN_TARGET), sort=True):
        table = _table_for(str(target), against)
        parts.append(_lookup(group, documented, table))
    if not parts:
        return pd.DataFrame(columns=DOC_COLUMNS)
    return pd.concat(parts, ignore_index=True)[DOC_COLUMNS]


KEY_COLUMNS = ["target", "target_version", "method", "route", "api_version"]


def _table_for(target: str, against: str) -> str | None:
    if against != "own":
        return against
    if target == PODMAN:
        return PODMAN
    return OWN.get(target, "spec")


def _lookup(keys: pd.DataFrame, documented: pd.DataFrame, table: str | None) -> pd.DataFrame:
    if table == PODMAN:
        return _podman(keys, documented)
    # documented_for labels a NULL target `unknown` and keys on (target, method, route,
    # api_version): join its answer back on those keys (several versions share them).
    keys = keys.reset_index(drop=True)
    probe = keys.assign(target=keys["target"].fillna(compare.UNKNOWN_TARGET))
    found = compare.documented_for(probe, documented, table or "spec")
    join = ["target", "method", "route", "api_version"]
    merged = probe.merge(found[join + ["table", "absent", "codes"]], on=join, how="left")
    merged["target"] = keys["target"]
    return merged


def _podman_versions(documented: pd.DataFrame) -> list[str]:
    sel = documented.loc[documented["source"] == PODMAN, "api_version"].unique()
    return sorted(map(str, sel), key=version_key)


def _podman(keys: pd.DataFrame, documented: pd.DataFrame) -> pd.DataFrame:
    """The Podman table for its own version when loaded (else its newest); none: no codes."""
    versions = _podman_versions(documented)
    out = keys.reset_index(drop=True).copy()
    if not versions:
        out["table"], out["absent"] = None, False
        out["codes"] = [()] * len(out)
        return out
    docs = documented[documented["source"] == PODMAN]
    index: dict[tuple, set[int]] = {}
    for v, m, r, c in zip(docs["api_version"], docs["method"], docs["route"],
                          docs["status_code"], strict=True):
        codes = index.setdefault((str(v), m, compare.route_shape(r)), set())
        if not pd.isna(c):
            codes.add(int(c))
    tables, codes = [], []
    for tv, m, r in zip(out["target_version"], out["method"], out["route"], strict=True):
        version = tv if tv in versions else versions[-1]
        tables.append(f"{PODMAN}-v{version}")
        codes.append(tuple(sorted(index.get((version, m, compare.route_shape(r)), ()))))
    out["table"], out["absent"], out["codes"] = tables, False, codes
    return out
