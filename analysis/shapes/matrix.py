"""Body shapes in `dockdrift matrix`: a row also differs when the implementations that answered
it sent different fields or types (per status, probe case by probe case), and it names them.

`attach(matrix, shapes)` fills each row's `shape_differences` (`{"200 [].Labels": {label:
types}}`, only fields where two or more of the matrix's implementations answered that status
with different type sets), turns such rows' `verdict` to `differ` with `shapes` among their
`differences`, and recounts the summary and the pairs. A row's `agree` keeps its meaning (the
codes, exit statuses and in-stream errors agree: users' scripts read it); `shapes_agree` says
whether the bodies did. A store without shapes: the same matrix.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dockdrift.db.routes import route_shape

if TYPE_CHECKING:
    from dockdrift.analysis.matrix.core import Matrix
    from dockdrift.analysis.shapes.core import ShapeReport


def _differing(shapes: ShapeReport, labels: list[str]) -> dict[tuple, dict[str, dict]]:
    out: dict[tuple, dict[str, dict]] = {}
    for r in shapes.rows:
        if r.agree:
            continue
        sides = {lbl: r.observed[lbl] for lbl in labels if lbl in r.observed}
        if len({tuple(t) for t in sides.values()}) > 1:
            key = (r.method, route_shape(r.route), r.case)
            out.setdefault(key, {})[f"{r.status} {r.field}"] = sides
    return out


def _pair_differs(diffs: dict[str, dict], a: str, b: str) -> bool:
    return any(a in d and b in d and d[a] != d[b] for d in diffs.values())


def attach(m: Matrix, shapes: ShapeReport) -> Matrix:
    from dockdrift.analysis.matrix.core import _sort_key, verdict

    found = _differing(shapes, m.implementations)
    if not found or m.rows.empty:
        return m
    records = m.rows.to_dict("records")
    for r in records:
        diffs = {}
        for name, sides in found.get((r["method"], route_shape(r["route"] or ""),
                                      r["case"]), {}).items():
            mine = {lbl: t for lbl, t in sides.items() if lbl in r["observed"]}
            if len({tuple(t) for t in mine.values()}) > 1:  # two of this row's differ
                diffs[name] = mine
        r["shape_differences"] = diffs
        r["shapes_agree"] = not diffs
        if diffs and r["verdict"] != "only_in":
            r["verdict"] = "differ"
            r["differences"] = [*r["differences"], "shapes"]
    records.sort(key=_sort_key)
    rows = m.rows.__class__(records, columns=m.rows.columns, dtype=object)
    s = dict(m.summary)
    s["differ"] = sum(r["verdict"] == "differ" for r in records)
    s["agree"] = sum(r["verdict"] == "agree" for r in records)
    s["compared"] = s["differ"] + s["agree"]
    if s.get("verdict") != "not enough data":
        s["verdict"] = "differ" if s["differ"] else "agree"
    pairs = []
    for p in s.get("pairs", []):
        both = agree = 0
        for r in records:
            obs = r["observed"]
            if p["a"] in obs and p["b"] in obs:
                both += 1
                sides = {x: {"codes": obs[x], "exits": r["exit_codes"][x],
                             "errors": r["stream_errors"][x]} for x in (p["a"], p["b"])}
                agree += (verdict(sides)[0] == "agree"
                          and not _pair_differs(r["shape_differences"] or {}, p["a"], p["b"]))
        pairs.append({**p, "rows": both, "agree": agree, "differ": both - agree,
                      "agreement": round(agree / both, 4) if both else None})
    s["pairs"] = pairs
    s["shape_rows_differ"] = sum(bool(r["shape_differences"]) for r in records)
    return replace(m, rows=rows, summary=s)


def fields_text(r: object, limit: int = 6) -> str:
    """`200 [].Labels, 200 [].Pod …+3` for a row's differing fields ('' when none)."""
    diffs = list(getattr(r, "shape_differences", None) or {})
    if not diffs:
        return ""
    more = f" …+{len(diffs) - limit}" if len(diffs) > limit else ""
    return ", ".join(diffs[:limit]) + more
