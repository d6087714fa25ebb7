"""A ShapeReport as text, Markdown or JSON: grouped by response, differences first.

Text and Markdown list the fields where the implementations differ (the alike ones are counted)
and then, per implementation, how its answers differ from its documentation; JSON has it all.
"""

from __future__ import annotations

from collections.abc import Callable

from dockdrift.render import base as render
from dockdrift.analysis.shapes.core import FINDING_KINDS, ShapeReport
from dockdrift.db.version import version_info
from dockdrift.analysis.shapes.labels import FINDING_TITLES, LIMIT, groups, headline, types_cell
from dockdrift.render.shapes_page import to_html

def _group_lines(report: ShapeReport, table: Callable[..., str]) -> list[str]:
    lines = []
    for name, rows in groups(report):
        differ = [r for r in rows if not r.agree]
        labels = [lbl for lbl in report.implementations if lbl in rows[0].observed]
        lines.append(f"{name}: " + (f"{len(differ)} of {len(rows)} fields differ" if differ
                                    else f"{len(rows)} fields, alike" if len(labels) > 1
                                    else f"{len(rows)} fields, answered by {labels[0]} only"))
        if differ and len(labels) > 1:
            lines.append(table(["field", *labels],
                               [[r.field, *(types_cell(r.observed.get(lbl)) for lbl in labels)]
                                for r in differ]))
    return lines


def _finding_lines(report: ShapeReport, table: Callable[..., str], heading: str) -> list[str]:
    lines = []
    for label in report.implementations:
        mine = [f for f in report.findings if f.implementation == label]
        if not mine:
            continue
        lines.append(heading.format(f"{label}: {len(mine)} differences from its documentation"))
        for kind in FINDING_KINDS:
            found = [f for f in mine if f.kind == kind]
            if not found:
                continue
            lines.append(f"{FINDING_TITLES[kind]} ({len(found)}):")
            lines.append(table(["response", "field", "sent", "documented", "table"],
                               [[f"{f.method} {f.route} {f.status}"
                                 + (f" [{f.case}]" if f.case else ""), f.field,
                                 types_cell(f.observed), types_cell(f.documented), f.table]
                                for f in found[:LIMIT]]))
            if len(found) > LIMIT:
                lines.append(f"… {len(found) - LIMIT} more (--format json lists all)")
    return lines


def _request_lines(report: ShapeReport, table: Callable[..., str]) -> list[str]:
    undocumented = [r for r in report.requests if r.documented == []]
    if not report.requests:
        return []
    lines = [f"request bodies: {len(report.requests)} fields sent by clients, "
             f"{len(undocumented)} not in the documented request body"]
    if undocumented:
        lines.append(table(["request", "client", "field", "types", "count"],
                           [[f"{r.method} {r.route}", r.client, r.field, types_cell(r.types),
                             r.count] for r in undocumented[:LIMIT]]))
    return lines


def to_text(report: ShapeReport) -> str:
    parts = [headline(report), "", *_group_lines(report, render.text_table), ""]
    parts += _finding_lines(report, render.text_table, "== {} ==")
    parts += _request_lines(report, render.text_table)
    return "\n".join(parts).rstrip() + "\n"


def to_markdown(report: ShapeReport) -> str:
    parts = ["# Body shapes", "", headline(report), "", "## Responses", ""]
    parts += [line + "\n" for line in _group_lines(report, render.md_table)]
    parts += ["## Against the documentation", ""]
    parts += [line + "\n" for line in _finding_lines(report, render.md_table, "### {}")]
    parts += [line + "\n" for line in _request_lines(report, render.md_table)]
    return "\n".join(parts).rstrip() + "\n"


def to_dict(report: ShapeReport) -> dict:
    return {**report.to_dict(), "dockdrift": version_info()}


def to_json(report: ShapeReport) -> str:
    return render.to_json(to_dict(report))



FORMATS: dict[str, Callable[[ShapeReport], str]] = {
    "text": to_text, "markdown": to_markdown, "json": to_json, "html": to_html}
