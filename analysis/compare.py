"""Observed status codes vs the documented tables: pure functions, DataFrames in and out.

Inputs are the SQL aggregates of `analysis.load` (never raw exchanges):
`observed` has target, method, route, handler, api_version, status_code, count (and, when the
store has it, target_version: which Podman table `own`/`podman` picks);
`documented` has source, api_version, target, method, route, handler, operation_id,
status_code, absent (the `documented_codes` table).

Conventions
- A NULL target (the recorder could not tell) is reported as ``unknown`` and compared against
  the Engine's (Docker) column: an unidentified upstream is almost always a plain dockerd.
- Which table: `--against` seed, spec, spec:X, own, podman, podman:X (analysis.against).
- Templates are compared by shape, not by variable: ``/volumes/{volumename:.*}`` (seed),
  ``/volumes/{name:.*}`` (spec), ``/networks/{id:.+}`` vs ``{networkid:.*}``, and Podman's
  one-segment ``/containers/{name}/json`` vs ``{name:.*}`` are the same route, whichever
  table tagged the exchange.
- A route the table lists as absent (``n/a``) is consistent with a 404 and nothing else.
- A route the table does not list at all documents nothing: every code seen on it is undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Which table an exchange is compared with lives in analysis.against; these names stay
# importable from here (documented imports).
from dockdrift.analysis.against import (SEED_VERSION, AgainstError, doc_lookup, doc_target,
                              nearest_version, parse_against, route_shape, spec_versions,
                              with_documented)

__all__ = ["SEED_VERSION", "AgainstError", "Report", "compare", "distribution", "documented_for",
           "make_report", "nearest_version", "parse_against", "route_shape", "spec_versions",
           "swarm_vs_engine", "with_documented"]

UNKNOWN_TARGET = "unknown"
KEYS = ["target", "method", "route"]


def normalize(observed: pd.DataFrame) -> pd.DataFrame:
    """Label NULL targets `unknown` (see module docstring); other columns unchanged."""
    out = observed.copy()
    out["target"] = out["target"].astype(object).where(out["target"].notna(), UNKNOWN_TARGET)
    return out


def distribution(observed: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each status within (target, method, route)."""
    obs = normalize(observed)
    df = (obs.groupby(KEYS + ["status_code"], dropna=False)["count"].sum().reset_index())
    totals = df.groupby(KEYS, dropna=False)["count"].transform("sum")
    df["share"] = df["count"] / totals
    return df.sort_values(KEYS + ["status_code"], na_position="last").reset_index(drop=True)


def documented_for(observed: pd.DataFrame, documented: pd.DataFrame,
                   against: str = "seed") -> pd.DataFrame:
    """Which documented codes apply to each observed (target, method, route, api_version).

    Returns those keys plus `table` (e.g. ``seed-v1.22``, ``spec-v1.41``, ``podman-v4.3.1``),
    `in_table` (the table lists the route), `absent` (listed as n/a) and `codes` (a sorted
    tuple of ints). For one frame of any keys, see `analysis.against.with_documented`.
    """
    lookup = doc_lookup(documented, against)
    obs = normalize(observed)
    tvs = obs["target_version"] if "target_version" in obs else pd.Series(None, index=obs.index)
    keys = obs[KEYS + ["api_version"]].assign(tv=tvs.astype(object)).drop_duplicates()
    keys = keys[keys["route"].notna()]
    rows = [(t, method, route, api, *lookup(t, method, route, api, tv))
            for t, method, route, api, tv in zip(*(keys[c].tolist() for c in keys.columns),
                                                 strict=True)]
    cols = KEYS + ["api_version", "table", "in_table", "absent", "codes"]
    return pd.DataFrame(rows, columns=cols)


def _consistent(code: int, codes: tuple[int, ...], absent: bool) -> bool:
    return code in codes or (absent and code == 404)


COMPARE_COLUMNS = ["target", "method", "route", "handler", "observed", "documented",
                   "undocumented", "unobserved", "coverage", "absent", "in_table", "tables"]


def compare(observed: pd.DataFrame, documented: pd.DataFrame,
            against: str = "seed") -> pd.DataFrame:
    """One row per (target, method, route, handler): observed vs documented codes.

    Columns: observed ({code: count}), documented, undocumented, unobserved (sorted tuples
    of ints), coverage (share of documented codes seen; NaN when nothing is documented),
    absent, in_table, tables. Unknown routes (route NULL) are left out: see `load.unknown_routes`.
    One pass over the observed rows with dicts: the table has one row per group, and per-group
    pandas objects cost far more than the work itself.
    """
    obs = normalize(observed)
    obs = obs[obs["route"].notna()]
    lookup = doc_lookup(documented, against)
    groups: dict[tuple, dict] = {}
    cols = KEYS + ["handler", "api_version", "status_code", "count"]
    tvs = obs["target_version"].tolist() if "target_version" in obs else [None] * len(obs)
    for t, method, route, handler, api, code, n, tv in zip(
            *(obs[c].tolist() for c in cols), tvs, strict=True):
        handler = None if handler is None or handler != handler else handler  # NaN -> None
        table, in_table, absent, codes = lookup(t, method, route, api, tv)
        g = groups.setdefault((t, method, route, handler), {
            "seen": {}, "undocumented": set(), "documented": set(), "absent": False,
            "in_table": True, "tables": set()})
        code = int(code)
        g["seen"][code] = g["seen"].get(code, 0) + int(n)
        g["documented"].update(codes)
        if not _consistent(code, codes, absent):
            g["undocumented"].add(code)
        g["absent"] |= bool(absent)
        g["in_table"] &= bool(in_table)
        g["tables"].add(table)
    order = sorted(groups, key=lambda k: (*k[:3], k[3] is None, k[3] or ""))
    return pd.DataFrame([_compare_row(k, groups[k]) for k in order], columns=COMPARE_COLUMNS)


def _compare_row(key: tuple, g: dict) -> dict:
    seen, documented_codes = g["seen"], g["documented"]
    t, method, route, handler = key
    return {
        "target": t, "method": method, "route": route, "handler": handler,
        "observed": dict(sorted(seen.items())),
        "documented": tuple(sorted(documented_codes)),
        "undocumented": tuple(sorted(g["undocumented"])),
        "unobserved": tuple(sorted(documented_codes - set(seen))),
        "coverage": (len(documented_codes & set(seen)) / len(documented_codes)
                     if documented_codes else float("nan")),
        "absent": g["absent"], "in_table": g["in_table"], "tables": tuple(sorted(g["tables"])),
    }


def swarm_vs_engine(observed: pd.DataFrame) -> pd.DataFrame:
    """Routes seen on both targets side by side: codes per target and the codes only one saw."""
    obs = normalize(observed)
    obs = obs[obs["route"].notna() & obs["target"].isin(["engine", "swarm"])
              & obs["status_code"].notna()]
    per: dict[tuple, dict[str, dict[int, int]]] = {}
    cols = ["method", "route", "target", "status_code", "count"]
    for method, route, t, code, n in zip(*(obs[c].tolist() for c in cols), strict=True):
        codes = per.setdefault((method, route), {}).setdefault(t, {})
        codes[int(code)] = codes.get(int(code), 0) + int(n)
    rows = []
    for (method, route), by_target in sorted(per.items()):
        if set(by_target) != {"engine", "swarm"}:
            continue
        e, s = (dict(sorted(by_target[t].items())) for t in ("engine", "swarm"))
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
        column = docs["source"].map(lambda source, t=target: doc_target(source, t))
        sel = docs[docs["table"].isin(names) & (docs["target"] == column)]
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
        """The JSON shape: {"routes": [...], "summary": {...}}; observed keys are strings.
        With outcomes attached (analysis.outcomes.report) every row has `stream_errors` and
        the routes that told exit statuses (wait, exec inspect) `exit_codes`."""
        rows = _records(self.routes[ROUTE_KEYS])
        if "stream_errors" in self.routes:
            for row, errors, exits in zip(rows, self.routes["stream_errors"],
                                          self.routes["exit_codes"], strict=True):
                row["stream_errors"] = _plain(errors)
                if exits:
                    row["exit_codes"] = _plain(exits)
        return {"routes": rows, "summary": _plain(self.summary)}


def make_report(observed: pd.DataFrame, documented: pd.DataFrame, unknown: pd.DataFrame,
                failures: pd.DataFrame, against: str = "seed", extra: dict | None = None) -> Report:
    """Build a Report from the load.* aggregates (pure; `extra` goes into the summary)."""
    routes = compare(observed, documented, against)
    sve = swarm_vs_engine(observed)
    extra = {**(extra or {}), "answered": int(observed["count"].sum())}
    summary = {**extra, **summarize(routes, documented, unknown, failures, sve, against)}
    return Report(against, routes, distribution(observed), sve, unknown, failures, summary)
