"""Body shapes in `dockdrift report`: per implementation, where its answers' fields differ from
its documentation (required fields not sent, undocumented fields, type mismatches, null for
array or object). `attach` adds `summary["shapes"]`; `sections` gives the renderers' table.

The report's `--against` picks the shapes' documentation too: `own` and `spec[:X]` as they are;
`seed` and `podman` (no shapes of their own: the source document has none, Podman's swagger is
not in reach) compare with each implementation's own (`own`). A store without recorded shapes
gains nothing, so its report reads as before; shape findings never change the report's exit
code (`dockdrift shapes` decides on them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dockdrift.analysis.shapes.core import FINDING_KINDS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.compare import Report
    from dockdrift.analysis.load import Filter

TITLE = "Body shapes against the documentation (fields, never values)"
LIMIT = 60


def shapes_against(against: str) -> str:
    return against if against == "own" or against.split(":")[0] == "spec" else "own"


def attach(report: Report, engine: Engine, flt: Filter, against: str) -> Report:
    from dockdrift.analysis.shapes import load_shapes

    shapes = load_shapes(engine, flt, shapes_against(against))
    if not shapes.rows:
        return report
    s = shapes.summary
    section = {"against": shapes_against(against), "implementations": shapes.implementations,
               "responses": s["responses"], "fields": s["fields"],
               "fields_differ_between_implementations": s["disagree"],
               "findings": s["findings"], "differences": [f.to_dict() for f in shapes.findings]}
    return replace(report, summary={**report.summary, "shapes": section})


def sections(report: Report) -> dict[str, tuple[list[str], list[list[object]]]]:
    """{title: (headers, rows)}, or {} when the store recorded no shapes."""
    shapes = report.summary.get("shapes")
    if not shapes:
        return {}
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    found = sorted(shapes["differences"], key=lambda f: (f["implementation"], order[f["kind"]],
                                                         f["route"], f["method"], f["field"]))
    rows: list[list[object]] = [
        [f["implementation"], f["kind"].replace("_", " "),
         f"{f['method']} {f['route']}" + (f" [{f['case']}]" if f.get("case") else ""),
         f["status"], f["field"], "|".join(f["observed"]) or "—",
         "|".join(f["documented"]) or "—", f["table"]] for f in found[:LIMIT]]
    if len(found) > LIMIT:
        rows.append(["…", f"{len(found) - LIMIT} more", "dockdrift shapes lists all",
                     "", "", "", "", ""])
    return {TITLE: (["implementation", "difference", "request", "status", "field", "sent",
                     "documented", "table"], rows)}
