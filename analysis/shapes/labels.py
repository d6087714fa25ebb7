"""What the shape renderers (text, Markdown, HTML) share: titles, grouping, cells."""

from __future__ import annotations

from itertools import groupby

from dockdrift.analysis.shapes.core import FINDING_KINDS, FieldRow, ShapeReport

FINDING_TITLES = {
    "missing_required": "required by its documentation, not sent",
    "undocumented": "sent, not in its documentation",
    "type_mismatch": "types its documentation does not allow",
    "null_for_container": "null where its documentation says array or object",
}
LIMIT = 40  # findings per implementation and kind in text and Markdown (JSON: all)


def group_name(r: FieldRow) -> str:
    case = f" [{r.case}]" if r.case else ""
    return f"{r.method} {r.route} {r.status}{case}"


def groups(report: ShapeReport) -> list[tuple[str, list[FieldRow]]]:
    """Responses in route order, those where implementations differ first; inside each, the
    differing fields first."""
    out = [(name, sorted(rows, key=lambda r: r.agree))
           for name, rows in groupby(report.rows, key=group_name)]
    return sorted(out, key=lambda g: all(r.agree for r in g[1]))


def types_cell(types: list[str] | None) -> str:
    if types is None:
        return ""
    return "|".join(types) if types else "—"


def headline(report: ShapeReport) -> str:
    s = report.summary
    f = s.get("findings", {})
    doc = ", ".join(f"{f.get(k, 0)} {k.replace('_', ' ')}" for k in FINDING_KINDS)
    return (f"dockdrift shapes: {len(report.implementations)} implementation(s), "
            f"{s.get('responses', 0)} responses, {s.get('fields', 0)} fields, "
            f"{s.get('disagree', 0)} differ between implementations; against the "
            f"documentation ({s.get('against', 'own')}): {doc}")
