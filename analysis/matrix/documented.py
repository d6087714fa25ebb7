"""Which documented codes apply to each implementation: the ONE adapter between the matrix and
the documented tables, so a change of table source touches this file only.

It calls `analysis.against.with_documented` (the tables' frozen interface). `--against`:
- `own` (the matrix's default): each implementation against its own documentation: the
  Engine against its OpenAPI table nearest below each exchange's API version, classic Swarm
  against the source document's Swarm column, Podman against its own table (nearest at or
  below its release).
- `seed`, `spec`, `spec:X`, `podman`, `podman:X`: every implementation against that table,
  as `dockdrift report` does (seed: the Swarm column for swarm, the Docker column otherwise).
"""

from __future__ import annotations

import pandas as pd

from dockdrift.analysis.against import parse_against, spec_versions, table_versions, with_documented

KEY_COLUMNS = ["target", "target_version", "method", "route", "api_version"]
DOC_COLUMNS = KEY_COLUMNS + ["table", "absent", "codes"]


def check_against(against: str, documented: pd.DataFrame) -> None:
    """Raise AgainstError (the message lists what exists) when `against` names no table."""
    parse_against(against, spec_versions(documented), table_versions(documented, "podman"))


def documented_codes(keys: pd.DataFrame, documented: pd.DataFrame,
                     against: str = "own") -> pd.DataFrame:
    """keys (target, target_version, method, route, api_version) -> DOC_COLUMNS.

    `codes` is a sorted tuple of ints, `table` e.g. `spec-v1.41` or `podman-v4.3.1`, `absent`:
    the table lists the route as not an API (n/a). Raises AgainstError.
    """
    check_against(against, documented)
    keys = keys[KEY_COLUMNS].drop_duplicates()
    keys = keys[keys["route"].notna()].reset_index(drop=True)
    if keys.empty:
        return pd.DataFrame(columns=DOC_COLUMNS)
    out = with_documented(keys, against, documented)
    return out.rename(columns={"documented": "codes"})[DOC_COLUMNS]
