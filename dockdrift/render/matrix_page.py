"""A `Matrix` as one self-contained HTML page (templates/matrix.html), in the style of the
report's: verdict banner, cards, the grid (disagreements first and highlighted), documented
codes framed as in the report's heat map, charts, version footer."""

from __future__ import annotations

from dockdrift.analysis.matrix.core import Matrix, row_name
from dockdrift.analysis.shapes.matrix import fields_text
from dockdrift.db.version import version_info
from dockdrift.render.matrix import headline, pair_table, side_table, verdict_line


def _cell(r: object, label: str) -> dict:
    """One implementation's cell: (text, kind) badges, and whether it answered the row."""
    obs = r.observed.get(label)  # type: ignore[attr-defined]
    doc = set(r.documented.get(label, []))  # type: ignore[attr-defined]
    if obs is None:
        return {"seen": False, "badges": [(str(c), "unobserved") for c in sorted(doc)]}
    badges = [(f"{c} ×{n}", "documented framed" if c in doc else "undocumented")
              for c, n in obs.items()]
    badges += [(f"exit {s} ×{n}", "exit")
               for s, n in r.exit_codes.get(label, {}).items()]  # type: ignore[attr-defined]
    badges += [(f"stream error {c} ×{n}", "stream")
               for c, n in r.stream_errors.get(label, {}).items()]  # type: ignore[attr-defined]
    badges += [(str(c), "unobserved") for c in sorted(doc - set(obs))]
    return {"seen": True, "badges": badges}


def _rows(m: Matrix) -> list[dict]:
    return [{"verdict": r.verdict, "name": row_name(r),
             "kind": {"differ": "undocumented", "agree": "documented"}.get(r.verdict, "muted"),
             "what": r.verdict + (f": {', '.join(r.differences)}" if r.differences else "")
             + (f" ({fields_text(r)})" if fields_text(r) else ""),
             "cells": [_cell(r, label) for label in m.implementations]}
            for r in m.rows.itertuples()]


def _cards(m: Matrix) -> list[tuple[str, object, str]]:
    s = m.summary
    return [("implementations", len(m.implementations), ""), ("rows", s.get("rows", 0), ""),
            ("differ", s.get("differ", 0), "bad" if m.has_differences else "good"),
            ("agree", s.get("agree", 0), ""), ("seen by one only", s.get("only_in", 0), "")]


def to_html(m: Matrix) -> str:
    from dockdrift.analysis.matrix import plots
    from dockdrift.render.html import figure_to_data_uri as uri
    from dockdrift.render.html import page

    bad = m.has_differences or not m.enough_data
    return page("matrix.html", "dockdrift matrix", headline(m), verdict=verdict_line(m),
                verdict_kind="undocumented" if bad else "documented", cards=_cards(m),
                implementations=list(m.implementations), rows=_rows(m),
                pairs=pair_table(m), pair_image=uri(plots.pair_agreement(m)),
                grid_image=uri(plots.verdict_grid(m)), sides=side_table(m),
                version=version_info())
