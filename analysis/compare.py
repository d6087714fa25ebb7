"""Observed status codes vs the documented tables: pure functions, DataFrames in and out.

Inputs are the SQL aggregates of `analysis.load` (never raw exchanges):
`observed` has target, method, route, handler, api_version, status_code, count;
`documented` has source, api_version, target, method, route, handler, operation_id,
status_code, absent (the `documented_codes` table).

Conventions
- A NULL target (the recorder could not tell) is reported as ``unknown`` and compared against
  the Engine's (Docker) column: an unidentified upstream is almost always a plain dockerd.
- Templates are compared by shape, not by variable: ``/volumes/{volumename:.*}`` (seed),
  ``/volumes/{name:.*}`` (spec) and ``/networks/{id:.+}`` vs ``{networkid:.*}`` are the same
  route, whichever table tagged the exchange.
- A route the table lists as absent (``n/a``) is consistent with a 404 and nothing else.
- A route the table does not list at all documents nothing: every code seen on it is undocumented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from db.tables import version_key

UNKNOWN_TARGET = "unknown"
SEED_VERSION = "1.22"
KEYS = ["target", "method", "route"]
_VAR = re.compile(r"\{\w+(?::(?:[^{}]|\{[^{}]*\})+)?\}")


class AgainstError(ValueError):
    """`--against` names a table that does not exist; the message lists the ones that do."""


def route_shape(route: str) -> str:
    """A template with its variables blanked: `/volumes/{volumename:.*}` -> `/volumes/{}`.

    The tables name and constrain the same variable differently (`{networkid:.*}`,
    `{id:.+}`, `{id}`); a route is the same route whatever its variables are called.
    """
    return _VAR.sub("{}", route)


def normalize(observed: pd.DataFrame) -> pd.DataFrame:
    """Label NULL targets `unknown` (see module docstring); other columns unchanged."""
    out = observed.copy()
    out["target"] = out["target"].astype(object).where(out["target"].notna(), UNKNOWN_TARGET)
    return out


def spec_versions(documented: pd.DataFrame) -> list[str]:
    """The Engine OpenAPI table versions present, oldest first."""
    versions = documented.loc[documented["source"] == "spec", "api_version"].unique()
    return sorted(versions, key=version_key)


def parse_against(against: str, versions: list[str]) -> tuple[str, str | None]:
    """`seed` | `spec` | `spec:1.41` -> (source, fixed version or None for per-exchange)."""
    available = ", ".join(versions) or "none"
    if against == "seed":
        return "seed", SEED_VERSION
    if against == "spec":
        if not versions:
            raise AgainstError("no Engine OpenAPI table is loaded (db/data/spec-v*.csv)")
        return "spec", None
    if against.startswith("spec:"):
        version = against.removeprefix("spec:").removeprefix("v")
        if version not in versions:
            raise AgainstError(f"no Engine OpenAPI table for API {version!r}; "
                               f"available versions: {available} (or use --against seed)")
        return "spec", version
    raise AgainstError(f"--against must be seed, spec or spec:VERSION (versions: {available}), "
                       f"not {against!r}")


def nearest_version(api_version: str | None, versions: list[str]) -> str:
    """The newest table at or below `api_version`; NULL -> newest; older than all -> oldest."""
    if api_version is None or (isinstance(api_version, float) and pd.isna(api_version)):
        return versions[-1]
    wanted = version_key(str(api_version))
    below = [v for v in versions if version_key(v) <= wanted]
    return below[-1] if below else versions[0]


def distribution(observed: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each status within (target, method, route)."""
    obs = normalize(observed)
    df = (obs.groupby(KEYS + ["status_code"], dropna=False)["count"].sum().reset_index())
    totals = df.groupby(KEYS, dropna=False)["count"].transform("sum")
    df["share"] = df["count"] / totals
    return df.sort_values(KEYS + ["status_code"], na_position="last").reset_index(drop=True)


def _doc_index(documented: pd.DataFrame) -> dict[tuple, tuple[frozenset[int], bool]]:
    """(source, version, target, method, shape) -> (codes, absent)."""
    index: dict[tuple, tuple[set[int], bool]] = {}
    for row in documented.itertuples(index=False):
        key = (row.source, row.api_version, row.target, row.method, route_shape(row.route))
        codes, absent = index.get(key, (set(), False))
        if not pd.isna(row.status_code):
            codes.add(int(row.status_code))
        index[key] = (codes, absent or bool(row.absent))
    return {k: (frozenset(c), a) for k, (c, a) in index.items()}


def documented_for(observed: pd.DataFrame, documented: pd.DataFrame,
                   against: str = "seed") -> pd.DataFrame:
    """Which documented codes apply to each observed (target, method, route, api_version).

    Returns those keys plus `table` (e.g. ``seed-v1.22``, ``spec-v1.41``), `in_table` (the
    table lists the route), `absent` (listed as n/a) and `codes` (a sorted tuple of ints).
    """
    source, fixed = parse_against(against, spec_versions(documented))
    versions = spec_versions(documented)
    index = _doc_index(documented)
    keys = normalize(observed)[KEYS + ["api_version"]].drop_duplicates()
    keys = keys[keys["route"].notna()]
    rows = []
    for t, method, route, api in keys.itertuples(index=False):
        version = fixed or nearest_version(api, versions)
        doc_target = "swarm" if (source == "seed" and t == "swarm") else "engine"
        hit = index.get((source, version, doc_target, method, route_shape(route)))
        codes, absent = hit if hit else (frozenset(), False)
        rows.append({"target": t, "method": method, "route": route, "api_version": api,
                     "table": f"{source}-v{version}", "in_table": hit is not None,
                     "absent": absent, "codes": tuple(sorted(codes))})
    cols = KEYS + ["api_version", "table", "in_table", "absent", "codes"]
    return pd.DataFrame(rows, columns=cols)


def _consistent(code: int, codes: tuple[int, ...], absent: bool) -> bool:
    return code in codes or (absent and code == 404)


def compare(observed: pd.DataFrame, documented: pd.DataFrame,
            against: str = "seed") -> pd.DataFrame:
    """One row per (target, method, route, handler): observed vs documented codes.

    Columns: observed ({code: count}), documented, undocumented, unobserved (sorted tuples
    of ints), coverage (share of documented codes seen; NaN when nothing is documented),
    absent, in_table, tables. Unknown routes (route NULL) are left out: see `load.unknown_routes`.
    """
    obs = normalize(observed)
    obs = obs[obs["route"].notna()]
    docs = documented_for(obs, documented, against)
    merged = obs.merge(docs, on=KEYS + ["api_version"], how="left")
    rows = []
    for (t, method, route, handler), g in merged.groupby(KEYS + ["handler"], dropna=False,
                                                        sort=True):
        seen: dict[int, int] = {}
        undocumented: set[int] = set()
        documented_codes: set[int] = set()
        for r in g.itertuples(index=False):
            code = int(r.status_code)
            seen[code] = seen.get(code, 0) + int(r.count)
            documented_codes.update(r.codes)
            if not _consistent(code, r.codes, r.absent):
                undocumented.add(code)
        unobserved = documented_codes - set(seen)
        rows.append({
            "target": t, "method": method, "route": route,
            "handler": None if pd.isna(handler) else handler,
            "observed": dict(sorted(seen.items())),
            "documented": tuple(sorted(documented_codes)),
            "undocumented": tuple(sorted(undocumented)),
            "unobserved": tuple(sorted(unobserved)),
            "coverage": (len(documented_codes & set(seen)) / len(documented_codes)
                         if documented_codes else float("nan")),
            "absent": bool(g["absent"].any()), "in_table": bool(g["in_table"].all()),
            "tables": tuple(sorted(set(g["table"]))),
        })
    cols = ["target", "method", "route", "handler", "observed", "documented", "undocumented",
            "unobserved", "coverage", "absent", "in_table", "tables"]
    return pd.DataFrame(rows, columns=cols)


def swarm_vs_engine(observed: pd.DataFrame) -> pd.DataFrame:
    """Routes seen on both targets side by side: codes per target and the codes only one saw."""
    obs = normalize(observed)
    obs = obs[obs["route"].notna() & obs["target"].isin(["engine", "swarm"])]
    per = (obs.groupby(["method", "route", "target", "status_code"])["count"].sum()
           .reset_index())
    rows = []
    for (method, route), g in per.groupby(["method", "route"], sort=True):
        by_target = {t: dict(zip(gt["status_code"].astype(int), gt["count"].astype(int),
                                 strict=True)) for t, gt in g.groupby("target")}
        if set(by_target) != {"engine", "swarm"}:
            continue
        e, s = by_target["engine"], by_target["swarm"]
        rows.append({"method": method, "route": route, "engine": e, "swarm": s,
                     "only_engine": tuple(sorted(set(e) - set(s))),
                     "only_swarm": tuple(sorted(set(s) - set(e))),
                     "same_codes": set(e) == set(s)})
    cols = ["method", "route", "engine", "swarm", "only_engine", "only_swarm", "same_codes"]
    return pd.DataFrame(rows, columns=cols)


def documented_routes(documented: pd.DataFrame, tables: dict[str, set[str]]) -> pd.DataFrame:
    """The routes (with at least one documented code) of the tables each target was compared with.

    `tables` maps a target to table names such as ``{"engine": {"spec-v1.41"}}``.
    """
    docs = documented[documented["status_code"].notna()].copy()
    docs["table"] = docs["source"] + "-v" + docs["api_version"]
    docs["shape"] = docs["route"].map(route_shape)
    parts = []
    for target, names in tables.items():
        doc_target = "swarm" if target == "swarm" else "engine"
        sel = docs[docs["table"].isin(names) & (docs["target"] == doc_target)]
        sel = sel.drop_duplicates(["method", "shape", "status_code"]).assign(target=target)
        parts.append(sel[["target", "method", "route", "shape", "status_code"]])
    if not parts:
        return pd.DataFrame(columns=["target", "method", "route", "shape", "status_code"])
    return pd.concat(parts, ignore_index=True)


def _target_summary(target: str, rows: pd.DataFrame, documented: pd.DataFrame) -> dict:
    """Route and code coverage of the tables one target was compared against."""
    tables = set().union(*rows["tables"]) if len(rows) else set()
    docs = documented_routes(documented, {target: tables})
    doc_routes = docs.drop_duplicates(["method", "shape"])
    seen_codes = {(r.method, route_shape(r.route), c)
                  for r in rows.itertuples() for c in r.observed}
    seen_routes = {(m, s) for m, s, _ in seen_codes}
    exercised = [(m, s) in seen_routes
                 for m, s in zip(doc_routes["method"], doc_routes["shape"], strict=True)]
    codes_seen = sum((m, s, int(c)) in seen_codes for m, s, c
                     in zip(docs["method"], docs["shape"], docs["status_code"], strict=True))
    never = doc_routes[~pd.Series(exercised, index=doc_routes.index, dtype=bool)]
    return {
        "tables": sorted(tables),
        "routes_documented": len(doc_routes), "routes_exercised": int(sum(exercised)),
        "route_coverage": _ratio(sum(exercised), len(doc_routes)),
        "codes_documented": len(docs), "codes_observed": int(codes_seen),
        "code_coverage": _ratio(codes_seen, len(docs)),
        "never_exercised": [f"{m} {r}" for r, m in sorted(
            zip(never["route"], never["method"], strict=True))],
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in rec.items()} for rec in df.to_dict("records")]


def _plain(v: object) -> object:
    """numpy/pandas scalars and containers -> JSON-friendly Python values."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def summarize(routes: pd.DataFrame, documented: pd.DataFrame, unknown: pd.DataFrame,
              failures: pd.DataFrame, sve: pd.DataFrame, against: str) -> dict:
    """The report's summary: coverage per target, undocumented counts, the other findings."""
    undoc = [(r.observed[c]) for r in routes.itertuples() for c in r.undocumented]
    return {
        "against": against,
        "proxy_failed": int(failures["count"].sum() if len(failures) else 0),
        "routes_seen": len(routes),
        "undocumented_codes": len(undoc), "undocumented_exchanges": int(sum(undoc)),
        "targets": {t: _target_summary(t, g, documented)
                    for t, g in routes.groupby("target", sort=True)},
        "not_in_table": _records(routes.loc[~routes["in_table"], KEYS]),
        "unknown_routes": _records(unknown.assign(target=unknown["target"].fillna(UNKNOWN_TARGET))),
        "proxy_failures": _records(failures),
        "swarm_vs_engine": _records(sve.drop(columns=["same_codes"], errors="ignore")),
    }


ROUTE_KEYS = ["target", "method", "route", "handler", "observed", "documented", "undocumented",
              "unobserved"]


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a rendering needs; `has_undocumented` decides the exit code."""

    against: str
    routes: pd.DataFrame  # compare()
    distribution: pd.DataFrame
    swarm_vs_engine: pd.DataFrame
    unknown_routes: pd.DataFrame
    proxy_failures: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def has_undocumented(self) -> bool:
        return bool(self.summary.get("undocumented_codes"))

    def to_dict(self) -> dict:
        """The JSON shape: {"routes": [...], "summary": {...}}; observed keys are strings."""
        return {"routes": _records(self.routes[ROUTE_KEYS]), "summary": _plain(self.summary)}


def make_report(observed: pd.DataFrame, documented: pd.DataFrame, unknown: pd.DataFrame,
                failures: pd.DataFrame, against: str = "seed", extra: dict | None = None) -> Report:
    """Build a Report from the load.* aggregates (pure; `extra` goes into the summary)."""
    routes = compare(observed, documented, against)
    sve = swarm_vs_engine(observed)
    extra = {**(extra or {}), "answered": int(observed["count"].sum())}
    summary = {**extra, **summarize(routes, documented, unknown, failures, sve, against)}
    return Report(against, routes, distribution(observed), sve, unknown, failures, summary)
