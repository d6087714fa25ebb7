"""A `Matrix` as one self-contained HTML page, in the style of the report's
(analysis.report_render): verdict banner, cards, the grid (disagreements first and
highlighted), documented codes framed as in the report's heat map, charts, version footer."""

from __future__ import annotations

import html

from dockdrift.analysis import render
from dockdrift.analysis.matrix.core import Matrix
from dockdrift.analysis.shapes.matrix import fields_text
from dockdrift.analysis.matrix.render import pair_table, side_table, footer, headline, row_name, verdict_line

_CSS = """<style>
tr.differ td{background:#fff0f6} tr.differ td:first-child{border-left:4px solid #d6336c}
.badge.framed{outline:2px solid #2b8a3e;outline-offset:-1px}
.badge.exit{background:#495057} .badge.stream{background:#e8590c}
td.notseen{color:#adb5bd;font-style:italic}
</style>"""

_LEGEND = ('<div class="legend small">' + render.badge("200 ×5", "documented framed")
           + " answered, documented for that implementation (green frame, as in the report's "
           "heat map) &nbsp; " + render.badge("200 ×5", "undocumented")
           + " answered, not documented &nbsp; " + render.badge("500", "unobserved")
           + " documented, not answered &nbsp; " + render.badge("exit 3 ×1", "exit")
           + " exit status reported &nbsp; " + render.badge("stream error ×1", "stream")
           + " error inside the stream. A row <b>differs</b> when the implementations that "
           "answered it answered different sets of codes, exit statuses or stream errors. "
           "Denied requests and proxy-side failures are not server codes and are counted apart."
           "</div>")


def _cell(r: object, label: str) -> str:
    obs = r.observed.get(label)  # type: ignore[attr-defined]
    doc = set(r.documented.get(label, []))  # type: ignore[attr-defined]
    if obs is None:
        unseen = "".join(render.badge(str(c), "unobserved") for c in sorted(doc))
        return f'<span class="notseen">not seen</span> {unseen}'
    badges = [render.badge(f"{c} ×{n}", "documented framed" if c in doc else "undocumented")
              for c, n in obs.items()]
    badges += [render.badge(f"exit {s} ×{n}", "exit")
               for s, n in r.exit_codes.get(label, {}).items()]  # type: ignore[attr-defined]
    badges += [render.badge(f"stream error {c} ×{n}", "stream")
               for c, n in r.stream_errors.get(label, {}).items()]  # type: ignore[attr-defined]
    badges += [render.badge(str(c), "unobserved") for c in sorted(doc - set(obs))]
    return "".join(badges)


def _grid(m: Matrix) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["row", "verdict", *m.implementations])
    body = []
    for r in m.rows.itertuples():
        kind = {"differ": "undocumented", "agree": "documented"}.get(r.verdict, "muted")
        what = r.verdict + (f": {', '.join(r.differences)}" if r.differences else "")
        what += f" ({fields_text(r)})" if fields_text(r) else ""
        cells = [f"<code>{esc(row_name(r))}</code>", render.badge(what, kind)]
        cells += [_cell(r, label) for label in m.implementations]
        body.append(f'<tr class="{r.verdict}">' + "".join(f"<td>{c}</td>" for c in cells)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cards(m: Matrix) -> str:
    s = m.summary
    cards = [("implementations", len(m.implementations), ""), ("rows", s.get("rows", 0), ""),
             ("differ", s.get("differ", 0), "bad" if m.has_differences else "good"),
             ("agree", s.get("agree", 0), ""), ("seen by one only", s.get("only_in", 0), "")]
    return '<div class="cards">' + "".join(
        f'<div class="card {cls}"><b>{v}</b>{html.escape(k)}</div>'
        for k, v, cls in cards) + "</div>"


def to_html(m: Matrix) -> str:
    from dockdrift.analysis.matrix import plots

    bad = m.has_differences or not m.enough_data
    banner = (f'<div class="verdict {"undocumented" if bad else "documented"}">'
              f"{html.escape(verdict_line(m))}</div>")
    sections = [("", _CSS + banner + _cards(m)),
                ("Implementations side by side", _LEGEND + (_grid(m) if len(m.rows)
                                                             else "<p class=small>no rows</p>")),
                ("Agreement per pair", render.html_table(*pair_table(m))
                 + render.img(plots.pair_agreement(m), "agreement per implementation pair")),
                ("Rows at a glance", render.img(plots.verdict_grid(m), "rows by implementation")),
                ("Exchanges per implementation", render.html_table(*side_table(m))),
                ("", footer())]
    return render.html_page("dockdrift matrix", sections, subtitle=headline(m))
