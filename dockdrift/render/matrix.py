"""A `Matrix` in each output format: text, markdown, csv, json, html (seed: analysis.matrix.seed).

The same grid everywhere: one line per row (route or probe case), one column per
implementation, disagreements first, then agreements, then rows only one implementation saw.
"""

from __future__ import annotations

from collections.abc import Callable

from dockdrift.analysis.matrix.core import Matrix, row_name
from dockdrift.analysis.shapes.matrix import fields_text
from dockdrift.render import base as render
from dockdrift.db.version import version_info

TITLES = {"differ": "Implementations differ", "agree": "Implementations agree",
          "only_in": "Seen by one implementation only (nothing to compare)"}


def _codes(codes: list) -> str:
    return " ".join(map(str, codes)) or "-"


def _counts(d: dict) -> str:
    return " ".join(f"{k}×{v}" for k, v in d.items())


def cell_text(r: object, label: str) -> str:
    """One implementation's cell: codes×count, exit statuses, stream errors, documented."""
    obs = r.observed.get(label)  # type: ignore[attr-defined]
    doc = r.documented.get(label, [])  # type: ignore[attr-defined]
    if obs is None:
        text = "not seen"
    else:
        parts = [_counts(obs)]
        if r.exit_codes.get(label):  # type: ignore[attr-defined]
            parts.append("exit " + _counts(r.exit_codes[label]))  # type: ignore[attr-defined]
        if r.stream_errors.get(label):  # type: ignore[attr-defined]
            parts.append("stream error " + _counts(r.stream_errors[label]))  # type: ignore
        text = "; ".join(parts)
    return f"{text} (doc {_codes(doc)})"


def headline(m: Matrix) -> str:
    s = m.summary
    n = sum(v["exchanges"] for v in s.get("implementations", {}).values())
    return (f"against {m.against} · {len(m.implementations)} implementations · {n} exchanges · "
            f"{s.get('rows', 0)} rows: {s.get('differ', 0)} differ, {s.get('agree', 0)} agree, "
            f"{s.get('only_in', 0)} seen by one only"
            + (f" · {s['unattributed']} exchanges of no known implementation (target unknown)"
               if s.get("unattributed") else ""))


def verdict_line(m: Matrix) -> str:
    if not m.enough_data:
        known = ", ".join(m.implementations) or "none"
        if len(m.implementations) < 2:
            return ("not enough data to decide: fewer than two implementations answered "
                    f"({known})")
        return ("not enough data to decide: no request was answered by two implementations "
                f"({known})")
    if m.has_differences:
        return f"{m.summary['differ']} row(s) differ between implementations"
    return "all implementations agree on every row they share"


def _grid_rows(m: Matrix, kind: str) -> list[list[str]]:
    return [[row_name(r), (", ".join(r.differences) or "-")
             + (f" ({fields_text(r)})" if fields_text(r) else ""),
             *(cell_text(r, label) for label in m.implementations)]
            for r in m.rows.itertuples() if r.verdict == kind]


def side_table(m: Matrix) -> tuple[list[str], list[list[object]]]:
    heads = ["implementation", "exchanges", "answered", "denied", "proxy-side failures",
             "passive, unknown route"]
    rows = [[k, v["exchanges"], v["answered"], v["denied"], v["proxy_failed"],
             v["passive_unknown_route"]] for k, v in m.summary.get("implementations", {}).items()]
    return heads, rows


def pair_table(m: Matrix) -> tuple[list[str], list[list[object]]]:
    rows = [[p["a"], p["b"], p["rows"], p["agree"], p["differ"],
             "-" if p["agreement"] is None else f"{p['agreement']:.0%}"]
            for p in m.summary.get("pairs", [])]
    return ["implementation", "implementation", "rows both saw", "agree", "differ",
            "agreement"], rows


def to_text(m: Matrix, use_color: bool = False) -> str:
    def paint(text: str, code: str | None) -> str:
        return render.color(text, code, use_color)

    heads = ["ROW", "DIFFERS IN", *m.implementations]
    out = [paint("dockdrift matrix", "bold") + "  " + headline(m)]
    for kind in ("differ", "agree", "only_in"):
        body = _grid_rows(m, kind)
        if body:
            out += ["", paint(TITLES[kind], "bold-red" if kind == "differ" else "bold"),
                    render.text_table(heads, body)]
    for heads2, body2 in (side_table(m), pair_table(m)):
        if body2:
            out += ["", render.text_table([h.upper() for h in heads2],
                                          [[str(c) for c in r] for r in body2])]
    out += ["", paint(verdict_line(m), "bold-red" if m.has_differences or not m.enough_data
                      else "bold-green")]
    return "\n".join(out) + "\n"


def to_markdown(m: Matrix) -> str:
    heads = ["row", "differs in", *m.implementations]
    out = ["# dockdrift matrix", "", headline(m), "", f"**{verdict_line(m)}**"]
    for kind in ("differ", "agree", "only_in"):
        body = _grid_rows(m, kind)
        out += ["", f"## {TITLES[kind]}", ""]
        out.append(render.md_table(heads, body) if body else "_none_")
    for title, (h, b) in (("Exchanges per implementation", side_table(m)),
                          ("Agreement per pair", pair_table(m))):
        out += ["", f"## {title}", "", render.md_table(h, b) if b else "_none_"]
    return "\n".join(out) + "\n"


def to_csv(m: Matrix) -> str:
    """One line per (row, implementation)."""
    heads = ["verdict", "case", "method", "route", "implementation", "seen", "observed",
             "documented", "undocumented", "table", "exit_codes", "stream_errors", "differences"]
    lines = []
    for r in m.rows.itertuples():
        for label in m.implementations:
            obs = r.observed.get(label)
            undoc = r.undocumented.get(label)
            lines.append([r.verdict, r.case, r.method, r.route, label, obs is not None,
                          " ".join(f"{k}:{v}" for k, v in (obs or {}).items()),
                          " ".join(map(str, r.documented.get(label, []))),
                          "" if undoc is None else " ".join(map(str, undoc)),
                          " ".join(r.tables.get(label, [])),
                          " ".join(f"{k}:{v}" for k, v in r.exit_codes.get(label, {}).items()),
                          " ".join(f"{k}:{v}" for k, v in r.stream_errors.get(label, {}).items()),
                          " ".join(r.differences)])
    return render.to_csv(heads, lines)


def to_dict(m: Matrix) -> dict:
    return {**m.to_dict(), "dockdrift": version_info()}


def to_json(m: Matrix) -> str:
    return render.to_json(to_dict(m))


FORMATS: dict[str, Callable[..., str]] = {
    "text": to_text, "markdown": to_markdown, "csv": to_csv, "json": to_json}
