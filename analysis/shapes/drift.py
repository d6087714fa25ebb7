"""`shape_shift`: a field appearing, disappearing or changing type on a route, between windows.

Per (target, method, route, status) the answers with a recorded body shape are counted in each
window (n_b, n_c), and per field the answers that carried it. The tests are those of
`new_code` / `vanished_code` (analysis.drift): conditional on the m answers that carried the
field, under "no change" each lands in the baseline with probability n_b / (n_b + n_c), so
P(all m in the current window) = (n_c / N)^m, an exact one-sided binomial test; a field needs
`min_count` answers before it can be called new or gone. A type that appears or disappears at a
field both windows carried is tested the same way among the answers that carried the field.
`effect` is the change of the share of answers (it must reach `min_effect`, as share shifts).
Candidates carry raw p-values; `find_drift(..., extra=...)` corrects them with every other test
of the run (Holm by default). Never a value: fields and types only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockdrift.analysis.drift.stats import DriftParams, excluded
from dockdrift.analysis.load import Filter
from dockdrift.analysis.shapes.core import fold
from dockdrift.analysis.shapes.load import ShapeGroup, shape_groups, shape_texts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.drift.store import Window

Key = tuple[str | None, str, str, int]  # target, method, route, status


class _Window:
    """Answers per key, and per key and field: answers with the field, and per type."""

    def __init__(self, groups: list[ShapeGroup], texts: dict[str, dict[str, list[str]]]):
        self.n: dict[Key, int] = {}
        self.fields: dict[Key, dict[str, int]] = {}
        self.types: dict[Key, dict[str, dict[str, int]]] = {}
        for g in groups:
            shape = texts.get(g.shape_hash)
            if shape is None:
                continue
            key = (g.target, g.method, g.route, g.status_code)
            self.n[key] = self.n.get(key, 0) + g.count
            fields, types = self.fields.setdefault(key, {}), self.types.setdefault(key, {})
            for path, ts in shape.items():
                fields[path] = fields.get(path, 0) + g.count
                slot = types.setdefault(path, {})
                for t in fold(ts):
                    slot[t] = slot.get(t, 0) + g.count


def _candidate(key: Key, field: str, change: str, n_b: int, n_c: int, b: int, c: int,
               before: list[str], after: list[str]) -> dict:
    total = n_b + n_c
    p = (n_c / total) ** c if c else (n_b / total) ** b
    b_share, c_share = b / n_b, c / n_c
    return {"target": key[0], "method": key[1], "route": key[2], "kind": "shape_shift",
            "code": key[3], "field": field or ".", "change": change, "types_before": before,
            "types_after": after, "baseline_n": n_b, "current_n": n_c, "baseline_count": b,
            "current_count": c, "baseline_share": b_share, "current_share": c_share,
            "effect": abs(c_share - b_share), "p_value": float(p),
            "baseline_counts": {field: b}, "current_counts": {field: c}}


def shape_candidates(before: _Window, after: _Window, params: DriftParams) -> list[dict]:
    out = []
    for key in sorted(set(before.n) & set(after.n), key=str):
        if excluded(params, key[0], key[1], key[2], key[3]):
            continue
        n_b, n_c = before.n[key], after.n[key]
        fb, fc = before.fields[key], after.fields[key]
        tb, tc = before.types[key], after.types[key]
        for field in sorted(set(fb) | set(fc)):
            b, c = fb.get(field, 0), fc.get(field, 0)
            old, new = sorted(tb.get(field, {})), sorted(tc.get(field, {}))
            if b == 0 and c >= params.min_count:
                out.append(_candidate(key, field, "appeared", n_b, n_c, 0, c, [], new))
            elif c == 0 and b >= params.min_count:
                out.append(_candidate(key, field, "disappeared", n_b, n_c, b, 0, old, []))
            elif b and c:
                for t in sorted(set(old) | set(new)):
                    tb_n, tc_n = tb[field].get(t, 0), tc[field].get(t, 0)
                    if tb_n == 0 and tc_n >= params.min_count:
                        out.append(_candidate(key, field, f"type {t} appeared", b, c, 0, tc_n,
                                              old, new))
                    elif tc_n == 0 and tb_n >= params.min_count:
                        out.append(_candidate(key, field, f"type {t} disappeared", b, c, tb_n,
                                              0, old, new))
    return out


def window_shape_candidates(b_engine: Engine, baseline: Window, c_engine: Engine,
                            current: Window, params: DriftParams,
                            base: Filter | None = None) -> list[dict]:
    """The shape_shift candidates of two drift windows (two GROUP BYs, then their shapes)."""
    from dockdrift.analysis.drift.store import window_filter

    windows = []
    for engine, w in ((b_engine, baseline), (c_engine, current)):
        groups = shape_groups(engine, window_filter(w, base or Filter()))
        windows.append(_Window(groups, shape_texts(engine, {g.shape_hash for g in groups})))
    return shape_candidates(windows[0], windows[1], params)
