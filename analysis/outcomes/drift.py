"""`stream_error_shift` and `exit_code_shift`: drift in what 2xx answers meant.

- `stream_error_shift`: per (target, method, route, 2xx code), the share of answers that
  carried an error inside their stream changed: the same G-test of homogeneity as
  `share_shift` on the 2 x 2 table (with error, clean) x (baseline, current), the same
  `min_total`, `min_expected` and `min_effect` (here the difference of the two shares);
- `exit_code_shift`: per wait / exec-inspect route, the distribution of exit statuses told
  to clients changed: the G-test on the 2 x k table of exit statuses, rare ones merged.

Candidates carry raw p-values; `analysis.drift.find_drift(..., extra=...)` corrects them
together with every other test of the run (Holm by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dockdrift.analysis.compare import normalize
from dockdrift.analysis.drift.stats import DriftParams, excluded, g_test
from dockdrift.analysis.load import Filter
from dockdrift.analysis.outcomes.load import exit_code_counts, stream_error_counts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.drift.store import Window

OUTCOME_KINDS = ("stream_error_shift", "exit_code_shift")
DEFAULTS = DriftParams()
EVERYTHING = Filter()


def _table(df: pd.DataFrame, value_cols: list[str]) -> dict[tuple, dict[int, list[int]]]:
    df = normalize(df[df["route"].notna()])
    out: dict[tuple, dict[int, list[int]]] = {}
    cols = [df[c].tolist() for c in ["target", "method", "route", *value_cols]]
    for t, m, r, code, *values in zip(*cols, strict=True):
        slot = out.setdefault((t, m, r), {}).setdefault(int(code), [0] * len(values))
        for i, v in enumerate(values):
            slot[i] += int(v)
    return out


def _common(key: tuple, kind: str, code: int, n_b: int, n_c: int, b_count: int,
            c_count: int, b_counts: dict, c_counts: dict, test: dict) -> dict:
    b_share, c_share = b_count / n_b, c_count / n_c
    return dict(zip(["target", "method", "route"], key, strict=True)) | test | {
        "kind": kind, "code": code, "baseline_n": n_b, "current_n": n_c,
        "baseline_count": b_count, "current_count": c_count, "baseline_share": b_share,
        "current_share": c_share, "baseline_counts": b_counts, "current_counts": c_counts}


def stream_error_candidates(baseline: pd.DataFrame, current: pd.DataFrame,
                            params: DriftParams = DEFAULTS) -> list[dict]:
    """Tests of the with-error share per 2xx code (`load.stream_error_counts` of each window)."""
    b_tab = _table(baseline, ["status_code", "answers", "with_error"])
    c_tab = _table(current, ["status_code", "answers", "with_error"])
    out = []
    for key in sorted(set(b_tab) & set(c_tab)):
        for code in sorted(set(b_tab[key]) & set(c_tab[key])):
            (n_b, e_b), (n_c, e_c) = b_tab[key][code], c_tab[key][code]
            if (not 200 <= code < 300 or min(n_b, n_c) < params.min_total
                    or excluded(params, *key, code)):
                continue
            test = g_test(np.array([e_b, n_b - e_b]), np.array([e_c, n_c - e_c]),
                          params.min_expected)
            if test is not None:
                out.append(_common(key, "stream_error_shift", code, n_b, n_c, e_b, e_c,
                                   {"with_error": e_b, "clean": n_b - e_b},
                                   {"with_error": e_c, "clean": n_c - e_c}, test))
    return out


def exit_code_candidates(baseline: pd.DataFrame, current: pd.DataFrame,
                         params: DriftParams = DEFAULTS) -> list[dict]:
    """Tests of the exit-status distribution per route (`load.exit_code_counts`)."""
    b_tab, c_tab = _table(baseline, ["exit_code", "count"]), _table(current, ["exit_code", "count"])
    out = []
    for key in sorted(set(b_tab) & set(c_tab)):
        codes = sorted(set(b_tab[key]) | set(c_tab[key]))
        b = np.array([b_tab[key].get(c, [0])[0] for c in codes])
        c = np.array([c_tab[key].get(c, [0])[0] for c in codes])
        n_b, n_c = int(b.sum()), int(c.sum())
        if min(n_b, n_c) < params.min_total or excluded(params, *key, None):
            continue
        test = g_test(b, c, params.min_expected)
        if test is None:
            continue
        top = int(np.argmax(np.abs(b / n_b - c / n_c)))
        out.append(_common(key, "exit_code_shift", codes[top], n_b, n_c, int(b[top]),
                           int(c[top]), {str(k): int(v) for k, v in zip(codes, b, strict=True) if v},
                           {str(k): int(v) for k, v in zip(codes, c, strict=True) if v}, test))
    return out


def window_candidates(b_engine: Engine, baseline: Window, c_engine: Engine, current: Window,
                      params: DriftParams, base: Filter = EVERYTHING) -> list[dict]:
    """Both kinds of candidates for two drift windows (four small GROUP BYs); `base`: the
    run's other filters (target, method, route), as for the status codes."""
    from dockdrift.analysis.drift.store import window_filter

    b_flt, c_flt = window_filter(baseline, base), window_filter(current, base)
    return (stream_error_candidates(stream_error_counts(b_engine, b_flt),
                                    stream_error_counts(c_engine, c_flt), params)
            + exit_code_candidates(exit_code_counts(b_engine, b_flt),
                                   exit_code_counts(c_engine, c_flt), params))
