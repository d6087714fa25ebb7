"""Drift between a baseline and a current window, per (target, method, route): pure functions.

Inputs are count tables (target, method, route, status_code, count) aggregated in SQL; outputs
are a findings DataFrame. Three tests, one family:

- `share_shift`: a G-test of homogeneity on the route's 2 x k table (codes too rare for the
  asymptotics, expected count < min_expected, are merged into one bin or dropped), AND an
  effect-size floor (total variation distance >= min_effect) so huge samples don't flag tiny shifts;
- `new_code` / `vanished_code`: a code seen in one window only. Conditional on the code's total
  m, under "no change" each occurrence lands in the baseline with probability n_b / (n_b + n_c),
  so P(all m in current) = (n_c / N)^m: an exact one-sided binomial test, valid at any size;
- `newly_undocumented`: a significant `new_code` that the documented table does not list.

All p-values of a run are corrected together (Holm by default), so alpha bounds the chance of
any false alarm in a run, not per route.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from dockdrift.analysis.compare import UNKNOWN_TARGET, documented_for

KEYS = ["target", "method", "route"]
COUNT_COLUMNS = [*KEYS, "status_code", "count"]
FINDING_COLUMNS = [*KEYS, "kind", "code", "baseline_n", "current_n", "baseline_count",
                   "current_count", "baseline_share", "current_share", "statistic", "dof",
                   "p_value", "p_adjusted", "effect", "cramers_v", "baseline_counts",
                   "current_counts", "documented", "field", "change", "types_before",
                   "types_after"]  # the last four: shape_shift only (analysis.shapes.drift)
KINDS = ("new_code", "vanished_code", "share_shift", "newly_undocumented",
         "stream_error_shift", "exit_code_shift", "shape_shift")
# Kinds whose candidates come with their figures (analysis.outcomes.drift) and whose effect
# must reach min_effect, like share_shift.
_FINISHED = ("stream_error_shift", "exit_code_shift", "shape_shift")
_SHIFTS = ("share_shift", *_FINISHED)
CORRECTIONS = ("holm", "bh", "bonferroni", "none")


@dataclass(frozen=True)
class Suppression:
    """Codes known to vary on a route (empty codes: the whole route). Globs allowed in route."""

    route: str
    codes: tuple[int, ...] = ()
    target: str | None = None
    method: str | None = None

    def matches(self, target: str | None, method: str, route: str) -> bool:
        return (fnmatchcase(route, self.route)
                and (self.target is None or self.target == target)
                and (self.method is None or self.method.upper() == method))


@dataclass(frozen=True)
class DriftParams:
    """Thresholds of a drift run; defaults keep false alarms under 1% per route (measured)."""

    alpha: float = 0.01  # family-wise, after the correction
    min_count: int = 5  # occurrences before a code can be called new or vanished
    min_total: int = 30  # answered requests per window before a route's shares are tested
    min_expected: float = 5.0  # expected count per cell of the G-test; rarer codes are merged
    min_effect: float = 0.1  # total variation distance of the shares (0..1)
    correction: str = "holm"
    ignore_routes: tuple[str, ...] = ()
    suppress: tuple[Suppression, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {"alpha": self.alpha, "min_count": self.min_count, "min_total": self.min_total,
                "min_expected": self.min_expected, "min_effect": self.min_effect,
                "correction": self.correction, "ignore_routes": list(self.ignore_routes),
                "suppress": [s.__dict__ | {"codes": list(s.codes)} for s in self.suppress]}


def route_counts(observed: pd.DataFrame) -> pd.DataFrame:
    """Collapse an observed table to (target, method, route, status_code) -> count.

    Unknown routes (route NULL) and proxy-side failures (status NULL) are not route codes: dropped.
    """
    df = observed.dropna(subset=["route", "status_code"])
    df = df.astype({"status_code": "int64"}).fillna({"target": UNKNOWN_TARGET})
    out = df.groupby([*KEYS, "status_code"], as_index=False)["count"].sum()
    return out.astype({"count": "int64"})[COUNT_COLUMNS]


def apply_filters(counts: pd.DataFrame, params: DriftParams) -> pd.DataFrame:
    """Drop ignored routes and suppressed (route, code) pairs before any test."""
    if counts.empty or not (params.ignore_routes or params.suppress):
        return counts

    def keep(row: pd.Series) -> bool:
        return not excluded(params, row.target, row.method, row.route, row.status_code)

    return counts[counts.apply(keep, axis=1)].reset_index(drop=True)


def excluded(params: DriftParams, target: str, method: str, route: str,
             code: int | None) -> bool:
    """An ignored route, or a suppressed (route, code) pair (code None: only suppressions
    without codes apply): never tested, whichever kind of finding."""
    if any(fnmatchcase(route, pat) for pat in params.ignore_routes):
        return True
    return any(s.matches(target, method, route) and (not s.codes or code in s.codes)
               for s in params.suppress)


def paired(baseline: pd.DataFrame, current: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """(target, method, route) -> a 3 x k array: codes, baseline counts, current counts.

    Plain dicts, not a pandas merge: the tables are small (one row per route and code) and this
    runs hundreds of times in the sampling test.
    """
    acc: dict[tuple, dict[int, list[int]]] = {}
    for col, df in enumerate((baseline, current)):
        columns = (df[col].tolist() for col in COUNT_COLUMNS)
        for t, m, r, code, n in zip(*columns, strict=True):
            acc.setdefault((t, m, r), {}).setdefault(int(code), [0, 0])[col] += int(n)
    return {key: np.array([[k, *v] for k, v in sorted(codes.items())], dtype=np.int64).T
            for key, codes in sorted(acc.items())}


def chi2_sf(dof: int, x: float) -> float:
    """P(X >= x) for X ~ chi-square with integer `dof` (scipy.special.chdtrc to ~1e-14).

    The closed form of the regularized upper incomplete gamma Q(dof/2, x/2) for integer dof:
    importing scipy cost a drift run more time than all of its statistics.
    """
    if x <= 0:
        return 1.0
    h, m = x / 2.0, dof // 2
    odd = dof % 2 == 1
    if h < 700:  # exp(-h) is a normal float: a direct recurrence of the series' terms
        term = math.exp(-h) * (math.sqrt(h) / math.gamma(1.5) if odd else 1.0)
        total = 0.0
        for i in range(m):
            total += term
            term *= h / (i + (1.5 if odd else 1.0))
    else:  # in logs: the prefactor alone would underflow
        a = 0.5 if odd else 0.0
        total = sum(math.exp(-h + (i + a) * math.log(h) - math.lgamma(i + a + 1)) for i in range(m))
    p = min(1.0, (math.erfc(math.sqrt(h)) if odd else 0.0) + total)
    return p if p >= 2.2250738585072014e-308 else 0.0  # subnormal: 0, as scipy returns


def g_test(b: np.ndarray, c: np.ndarray, min_expected: float) -> dict[str, float] | None:
    """G-test of homogeneity on a 2 x k table after merging codes with too small expectations.

    Returns statistic, dof, p_value, effect (total variation distance) and Cramér's V, or None
    when fewer than two bins survive.
    """
    pooled = b + c
    n_b, n_c = b.sum(), c.sum()
    n = n_b + n_c
    keep = min(n_b, n_c) * pooled / n >= min_expected
    cols_b, cols_c = list(b[keep]), list(c[keep])
    rare_b, rare_c = b[~keep].sum(), c[~keep].sum()
    if min(n_b, n_c) * (rare_b + rare_c) / n >= min_expected:
        cols_b.append(rare_b)
        cols_c.append(rare_c)
    if len(cols_b) < 2:
        return None
    obs = np.array([cols_b, cols_c], dtype=float)
    rows, cols = obs.sum(axis=1, keepdims=True), obs.sum(axis=0, keepdims=True)
    exp = rows * cols / obs.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 2.0 * np.where(obs > 0, obs * np.log(obs / exp), 0.0).sum()
    pearson = ((obs - exp) ** 2 / exp).sum()
    dof = obs.shape[1] - 1
    shares = obs / rows
    return {"statistic": float(g), "dof": dof, "p_value": chi2_sf(dof, float(g)),
            "effect": float(0.5 * np.abs(shares[0] - shares[1]).sum()),
            "cramers_v": float(np.sqrt(pearson / obs.sum()))}


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Multiple-testing correction: holm (FWER), bh (FDR), bonferroni, none."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p)
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}: use one of {', '.join(CORRECTIONS)}")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _route_candidates(key: tuple, table: np.ndarray, params: DriftParams) -> list[dict]:
    """Every test one route allows, with its raw p-value (findings are chosen after correction)."""
    codes, b, c = table
    n_b, n_c = int(b.sum()), int(c.sum())
    n = n_b + n_c
    common = dict(zip(KEYS, key, strict=True)) | {
        "baseline_n": n_b, "current_n": n_c,
        "baseline_counts": {str(k): int(v) for k, v in zip(codes, b, strict=True) if v},
        "current_counts": {str(k): int(v) for k, v in zip(codes, c, strict=True) if v}}
    out = []
    for code, vb, vc in zip(codes, b, c, strict=True):
        new, gone = vb == 0 and vc >= params.min_count, vc == 0 and vb >= params.min_count
        if (new and n_b) or (gone and n_c):
            p = (n_c / n) ** vc if new else (n_b / n) ** vb
            out.append(common | {"kind": "new_code" if new else "vanished_code",
                                 "code": int(code), "p_value": float(p)})
    if min(n_b, n_c) >= params.min_total:
        test = g_test(b, c, params.min_expected)
        if test is not None:
            top = int(np.argmax(np.abs(b / n_b - c / n_c)))
            out.append(common | test | {"kind": "share_shift", "code": int(codes[top])})
    return out


def _finish(f: dict) -> dict:
    b, c = f["baseline_counts"].get(str(f["code"]), 0), f["current_counts"].get(str(f["code"]), 0)
    f |= {"baseline_count": b, "current_count": c,
          "baseline_share": b / f["baseline_n"] if f["baseline_n"] else None,
          "current_share": c / f["current_n"] if f["current_n"] else None}
    if f["kind"] != "share_shift":
        f["effect"] = abs((f["current_share"] or 0.0) - (f["baseline_share"] or 0.0))
    return f


def find_drift(baseline: pd.DataFrame, current: pd.DataFrame, params: DriftParams = DriftParams(),
               documented: dict[tuple, frozenset[int]] | None = None,
               extra: list[dict] | None = None) -> pd.DataFrame:
    """Findings between two count tables (COUNT_COLUMNS), one row per finding (FINDING_COLUMNS).

    `documented` maps (target, method, route) to the codes a table documents for it (absent
    routes: {404}); a significant new code outside that set is `newly_undocumented`.
    `extra`: more candidates with raw p-values (analysis.outcomes.drift), corrected together
    with these.
    """
    pairs = paired(apply_filters(baseline, params), apply_filters(current, params))
    cands = [c for key, table in pairs.items() for c in _route_candidates(key, table, params)]
    cands += extra or []
    if not cands:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    p_adj = adjust(np.array([c["p_value"] for c in cands]), params.correction)
    found = []
    for cand, pa in zip(cands, p_adj, strict=True):
        if pa >= params.alpha or (cand["kind"] in _SHIFTS
                                  and cand["effect"] < params.min_effect):
            continue
        cand = cand | {"p_adjusted": float(pa)}
        if cand["kind"] in _FINISHED:
            found.append(cand)
            continue
        cand = _finish(cand)
        doc = (documented or {}).get(tuple(cand[k] for k in KEYS))
        if doc is not None:
            cand["documented"] = sorted(doc)
            if cand["kind"] == "new_code" and cand["code"] not in doc:
                cand["kind"] = "newly_undocumented"
        found.append(cand)
    found.sort(key=lambda f: (*(str(f[k]) for k in KEYS), f["kind"], f["code"]))
    return pd.DataFrame(found, columns=FINDING_COLUMNS)



def documented_sets(observed: pd.DataFrame, documented: pd.DataFrame,
                    against: str = "seed") -> dict[tuple, frozenset[int]]:
    """(target, method, route) -> the codes the chosen table documents for the observed routes.

    Reuses the report's rules (analysis.compare.documented_for): `seed` (Swarm column for swarm,
    Docker column for engine), `spec` (the OpenAPI table at or below each exchange's API version;
    the union over the versions seen) or `spec:VERSION`; a route documented absent (n/a) allows
    only 404; a route no table lists documents nothing. Raises compare.AgainstError.
    """
    out: dict[tuple, set[int]] = {}
    for row in documented_for(observed, documented, against).itertuples(index=False):
        codes = out.setdefault((row.target, row.method, row.route), set())
        codes.update(row.codes)
        if row.absent:
            codes.add(404)
    return {k: frozenset(v) for k, v in out.items()}
