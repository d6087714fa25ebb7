"""A ShapeReport as one HTML page (templates/shapes.html, autoescaped), in the report's style:
the verdict, cards, one block per response (implementations differing first, alike fields
folded away), then each implementation against its documentation."""

from __future__ import annotations

from dockdrift.analysis.shapes.core import FINDING_KINDS, ShapeReport
from dockdrift.analysis.shapes.labels import FINDING_TITLES, groups, headline, types_cell
from dockdrift.render.html import page


def to_html(report: ShapeReport) -> str:
    blocks = groups(report)
    s = report.summary
    n_findings = len(report.findings)
    cards = [("implementations", len(report.implementations), ""),
             ("responses", s.get("responses", 0), ""), ("fields", s.get("fields", 0), ""),
             ("fields differ", s.get("disagree", 0), "bad" if s.get("disagree") else "good"),
             ("differences from docs", n_findings, "bad" if n_findings else "good")]
    findings = []
    for label in report.implementations:
        mine = [(k, [f for f in report.findings if f.implementation == label and f.kind == k])
                for k in FINDING_KINDS]
        findings.append((label, [(k, f) for k, f in mine if f]))
    findings = [(lbl, kinds) for lbl, kinds in findings if kinds]
    return page("shapes.html", "dockdrift shapes", ", ".join(report.implementations),
                types=types_cell, bad=report.has_findings,
                verdict=headline(report), cards=cards, blocks=blocks,
                labels_of={name: [lbl for lbl in report.implementations if lbl in rows[0].observed]
                           for name, rows in blocks},
                findings=findings, titles=FINDING_TITLES, requests=report.requests)
