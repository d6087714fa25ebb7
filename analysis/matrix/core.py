"""Implementations side by side: pure functions from the SQL aggregate to a `Matrix`.

A *row* is one request kind: (method, route) for passive traffic (case None), and
(case, method, route) for a `dockdrift probe` case. For each implementation
(`target target_version`, with its API floor when that is not the release's default:
db.implementations.implementation_label) a row holds the server
codes it answered (`observed`), the codes its documentation lists (`documented`), how many of
those answers carried an error in the stream (`stream_errors`, per code) and the exit statuses
reported (`exit_codes`: /wait StatusCode, exec ExitCode; NULL ones are not counted).

Verdict of a row, over the implementations that answered it (`seen_by` of them):
- **differ** when their sets of codes differ, or their sets of reported exit statuses differ,
  or the sets of codes that carried a stream error differ (`differences` names which);
- **agree** otherwise (counts may differ: sets are compared);
- **only_in**: seen by one implementation only: nothing to compare. Such a row has
  `agree: true`, `seen_by: 1`, `only_in: "<label>"`; it is listed apart and never makes the
  verdict `differ`. `not_seen_by` names the implementations that did not answer a row.
Not server codes, so never in `observed`: requests an allowlist refused (`denied`) and
proxy-side failures (status NULL); the summary counts them per implementation. Passive traffic
on unknown routes (route NULL) is counted apart too; a probe case's unknown route is a row.
Exchanges the recorder could not attribute to any implementation (target NULL, e.g. an answer
without a Server header before the recorder's /version probe returned) are in no column:
`summary.unattributed` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dockdrift.analysis.compare import _plain
from dockdrift.analysis.errors import InputError
from dockdrift.analysis.matrix.documented import documented_codes
from dockdrift.db.implementations import implementation_label

ROW_KEYS = ["method", "route", "case"]
ROW_COLUMNS = ROW_KEYS + ["handler", "verdict", "agree", "seen_by", "only_in", "not_seen_by",
                          "differences", "observed", "documented", "undocumented", "tables",
                          "documented_absent", "stream_errors", "exit_codes",
                          "shape_differences", "shapes_agree"]
JSON_KEYS = ["method", "route", "case", "handler", "observed", "documented", "agree", "verdict",
             "seen_by", "only_in", "not_seen_by", "differences", "undocumented", "tables",
             "documented_absent", "stream_errors", "exit_codes", "shape_differences",
             "shapes_agree"]
RANK = {"differ": 0, "agree": 1, "only_in": 2}


class UnknownImplementation(InputError):
    """A label names no implementation of the store; the message lists the known ones."""


def _str(x: object) -> str | None:
    return x if isinstance(x, str) else None


def labelled(counts: pd.DataFrame) -> pd.DataFrame:
    """`matrix_counts` plus its `implementation` label (`podman 4.3.1`, `engine 28.5.2+dfsg4
    (min API 1.44)`); a frame without `min_api_version` has no floors."""
    floors = (counts["min_api_version"] if "min_api_version" in counts
              else pd.Series(None, index=counts.index, dtype=object))
    labels = [implementation_label(_str(t), _str(v), _str(f))
              for t, v, f in zip(counts["target"], counts["target_version"], floors,
                                 strict=True)]
    for by in ("recorder", "client"):  # --by: one column per implementation and recorder/client
        if by in counts:
            labels = [f"{label} @ {r if isinstance(r, str) else 'unnamed'}"
                      for label, r in zip(labels, counts[by], strict=True)]
    return counts.assign(implementation=labels)


def known_implementations(counts: pd.DataFrame) -> list[str]:
    """Implementations that answered at least one request, sorted by label."""
    answered = counts[counts["status_code"].notna() & ~counts["denied"]]
    return sorted(set(labelled(answered)["implementation"]))


def select_implementations(counts: pd.DataFrame, wanted: list[str] | None) -> pd.DataFrame:
    """Only the rows of the `wanted` labels (all when None); UnknownImplementation otherwise."""
    df = labelled(counts)
    if not wanted:
        return df
    known = sorted(set(df["implementation"]))
    missing = [w for w in wanted if w not in known]
    if missing:
        raise UnknownImplementation(
            f"unknown implementation {missing[0]!r}; known in this store and filter: "
            f"{', '.join(repr(k) for k in known) or 'none'}")
    return df[df["implementation"].isin(wanted)]


def _gather(answered: pd.DataFrame) -> dict[tuple, dict]:
    """One pass over the aggregate: (method, route, case) -> {"handler", "sides": {label:
    {"codes", "errors", "exits"}}}. Plain dicts: per-group pandas objects cost far more than
    the work (as in analysis.compare)."""
    groups: dict[tuple, dict] = {}
    cols = ["method", "route", "case", "implementation", "status_code", "exit_code",
            "stream_error", "handler", "count"]
    for method, route, case, label, code, ex, err, handler, n in zip(
            *(answered[c].tolist() for c in cols), strict=True):
        key = (method, _none(route), _none(case))
        g = groups.setdefault(key, {"handler": None, "sides": {}})
        handler = _none(handler)
        if handler is not None and (g["handler"] is None or handler < g["handler"]):
            g["handler"] = handler
        side = g["sides"].setdefault(label, {"codes": {}, "errors": {}, "exits": {}})
        code, n = int(code), int(n)
        side["codes"][code] = side["codes"].get(code, 0) + n
        if err:
            side["errors"][code] = side["errors"].get(code, 0) + n
        if _none(ex) is not None:
            side["exits"][int(ex)] = side["exits"].get(int(ex), 0) + n
    for g in groups.values():
        g["sides"] = {label: {k: dict(sorted(v.items())) for k, v in side.items()}
                      for label, side in sorted(g["sides"].items())}
    return groups


def _none(x: object) -> object:
    """pandas' missing values (NaN in a str or float column) -> None."""
    return None if x is None or (isinstance(x, float) and x != x) else x


def verdict(sides: dict[str, dict]) -> tuple[str, list[str]]:
    """(`agree`|`differ`|`only_in`, the aspects that differ) for one row's implementations."""
    if len(sides) < 2:
        return "only_in", []
    differences = [name for name, key in (("codes", "codes"), ("exit_codes", "exits"),
                                          ("stream_errors", "errors"))
                   if len({frozenset(s[key]) for s in sides.values()}) > 1]
    return ("differ" if differences else "agree"), differences


def _doc_keys(answered: pd.DataFrame) -> pd.DataFrame:
    """The adapter's keys: each implementation's own (route, API version) pairs, plus, for the
    routes it never answered, the route at no API version (its newest table)."""
    cols = ["implementation", "target", "target_version", "method", "route", "api_version"]
    seen = answered[answered["route"].notna()][cols].drop_duplicates()
    impls = seen[["implementation", "target", "target_version"]].drop_duplicates()
    routes = seen[["method", "route"]].drop_duplicates()
    grid = impls.merge(routes, how="cross")
    had = grid.merge(seen[["implementation", "method", "route"]].drop_duplicates(),
                     how="left", indicator=True)["_merge"].eq("both").to_numpy()
    return pd.concat([seen, grid[~had].assign(api_version=None)], ignore_index=True)


def _doc_maps(answered: pd.DataFrame, documented: pd.DataFrame | None, against: str) -> dict:
    """(implementation, method, route) -> (codes, tables, absent), codes united over the API
    versions it was seen at. The documentation does not depend on the API floor: every floor
    of one (target, target_version) gets that release's tables."""
    if documented is None or answered.empty:
        return {}
    docs = documented_codes(_doc_keys(answered), documented, against)
    floors = (answered["min_api_version"] if "min_api_version" in answered
              else pd.Series(None, index=answered.index, dtype=object))
    labels_of: dict[tuple, set[str]] = {}
    for t, v, f in zip(answered["target"], answered["target_version"], floors, strict=True):
        labels_of.setdefault((_str(t), _str(v)), set()).add(
            implementation_label(_str(t), _str(v), _str(f)))
    out: dict[tuple, tuple[set[int], set[str], list[bool]]] = {}
    for t, v, m, r, table, absent, codes in zip(
            docs["target"], docs["target_version"], docs["method"], docs["route"],
            docs["table"], docs["absent"], docs["codes"], strict=True):
        for label in labels_of.get((_str(t), _str(v)), ()):
            _add_doc(out.setdefault((label, m, r), (set(), set(), [False])), table, absent,
                     codes)
    return out


def _add_doc(entry: tuple, table: object, absent: object, codes: object) -> None:
    entry[0].update(codes if isinstance(codes, tuple) else ())
    if isinstance(table, str):
        entry[1].add(table)
    entry[2][0] = entry[2][0] or bool(absent)


def _row(key: tuple, group: dict, implementations: list[str], docs: dict) -> dict:
    method, route, case = key
    sides = group["sides"]
    kind, differences = verdict(sides)
    empty: tuple = (set(), set(), [False])

    def doc(label: str) -> tuple:  # `engine 26.1.5 @ ci-7` is documented as `engine 26.1.5`
        return docs.get((label.split(" @ ", 1)[0], method, route), empty)

    documented = {label: sorted(doc(label)[0]) for label in implementations}
    absent = [label for label in implementations if doc(label)[2][0]]
    tables = {label: sorted(doc(label)[1]) for label in implementations}
    return {
        "method": method, "route": route, "case": case,
        "handler": group["handler"],
        "verdict": kind, "agree": kind != "differ", "seen_by": len(sides),
        "only_in": next(iter(sides)) if kind == "only_in" else None,
        "not_seen_by": [i for i in implementations if i not in sides],
        "differences": differences,
        "observed": {k: s["codes"] for k, s in sides.items()},
        "documented": documented,
        "undocumented": {k: [c for c in s["codes"] if c not in documented[k]
                             and not (c == 404 and k in absent)]  # n/a: a 404 is consistent
                         if tables[k] else None for k, s in sides.items()},
        "tables": tables, "documented_absent": absent,
        "stream_errors": {k: s["errors"] for k, s in sides.items()},
        "exit_codes": {k: s["exits"] for k, s in sides.items()},
        "shape_differences": {},  # analysis.shapes.matrix fills it: {"200 .Field": {label: types}}
        "shapes_agree": True,  # False when the bodies' fields or types differed (a shape verdict)
    }


def _side_counts(df: pd.DataFrame, implementations: list[str]) -> dict[str, dict]:
    """Per implementation: exchanges, answered, denied, proxy-side failures, unknown routes."""
    out = {}
    for label in implementations:
        g = df[df["implementation"] == label]
        failed = g["status_code"].isna()
        denied = g["denied"] & ~failed
        answered = g[~failed & ~denied]
        out[label] = {"exchanges": int(g["count"].sum()),
                      "answered": int(answered["count"].sum()),
                      "denied": int(g.loc[denied, "count"].sum()),
                      "proxy_failed": int(g.loc[failed, "count"].sum()),
                      "passive_unknown_route": int(answered.loc[
                          answered["route"].isna() & answered["case"].isna(), "count"].sum())}
    return out


def _pairs(rows: pd.DataFrame, implementations: list[str]) -> list[dict]:
    """For each pair of implementations: rows both answered, and how many of those agree."""
    out = []
    for i, a in enumerate(implementations):
        for b in implementations[i + 1:]:
            both = agree = 0
            for observed, exits, errors in zip(rows["observed"], rows["exit_codes"],
                                               rows["stream_errors"], strict=True):
                if a in observed and b in observed:
                    both += 1
                    sides = {x: {"codes": observed[x], "exits": exits[x], "errors": errors[x]}
                             for x in (a, b)}
                    agree += verdict(sides)[0] == "agree"
            out.append({"a": a, "b": b, "rows": both, "agree": agree, "differ": both - agree,
                        "agreement": round(agree / both, 4) if both else None})
    return out


@dataclass(frozen=True, eq=False)
class Matrix:
    """Everything a rendering needs; `has_differences` and `enough_data` decide the exit code."""

    against: str
    implementations: list[str]
    rows: pd.DataFrame  # ROW_COLUMNS, disagreements first
    summary: dict = field(default_factory=dict)

    @property
    def has_differences(self) -> bool:
        return bool(self.summary.get("differ"))

    @property
    def enough_data(self) -> bool:
        """Something to decide: at least one row that two implementations answered (so at
        least two implementations). Rows seen by one implementation only decide nothing."""
        return len(self.implementations) >= 2 and self.summary.get("compared", 0) > 0

    def to_dict(self) -> dict:
        """The JSON shape (see README): implementations, rows, summary (dockdrift added by
        the renderer)."""
        return {"implementations": list(self.implementations),
                "rows": [{k: _plain(r[k]) for k in JSON_KEYS}
                         for r in self.rows.to_dict("records")],
                "summary": _plain(self.summary)}


def _sort_key(r: dict) -> tuple:
    return (RANK[r["verdict"]], r["case"] is None, r["case"] or "", r["method"],
            r["route"] or "")


def build_matrix(counts: pd.DataFrame, documented: pd.DataFrame | None = None,
                 against: str = "own", implementations: list[str] | None = None,
                 extra: dict | None = None) -> Matrix:
    """A Matrix from `load.matrix_counts` (pure). `implementations`: only those labels, in
    that order (UnknownImplementation for a label the counts do not hold)."""
    unattributed = int(counts.loc[counts["target"].isna(), "count"].sum())
    df = select_implementations(counts[counts["target"].notna()], implementations)
    answered = df[df["status_code"].notna() & ~df["denied"]]
    answered = answered[answered["route"].notna() | answered["case"].notna()]
    labels = implementations or known_implementations(df)
    labels = [x for x in labels if x in set(answered["implementation"])]
    docs = _doc_maps(answered, documented, against) if len(answered) else {}
    rows = sorted((_row(k, g, labels, docs) for k, g in _gather(answered).items()),
                  key=_sort_key)
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS, dtype=object)  # None stays None
    summary = {**(extra or {}), "against": against,
               "rows": len(frame), "differ": int((frame["verdict"] == "differ").sum()),
               "agree": int((frame["verdict"] == "agree").sum()),
               "only_in": int((frame["verdict"] == "only_in").sum()),
               "implementations": _side_counts(df, sorted(set(df["implementation"]))),
               "pairs": _pairs(frame, labels), "unattributed": unattributed}
    summary["compared"] = summary["differ"] + summary["agree"]  # rows two or more answered
    summary["verdict"] = ("not enough data" if len(labels) < 2 or not summary["compared"] else
                          "differ" if summary["differ"] else "agree")
    return Matrix(against, labels, frame, summary)


def row_name(r: object) -> str:
    """`METHOD route`, with the probe case in front: `inspect-missing: GET /containers/…`."""
    route = r.route or "(unknown route)"  # type: ignore[attr-defined]
    case = r.case  # type: ignore[attr-defined]
    return (f"{case}: " if case else "") + f"{r.method} {route}"  # type: ignore[attr-defined]
