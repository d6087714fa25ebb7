"""A ShapeReport as one HTML page (Jinja2, autoescaped), in the report's style: the verdict,
cards, one block per response (implementations differing first, alike fields folded away),
then each implementation against its documentation."""

from __future__ import annotations

from jinja2 import Environment

from dockdrift.analysis import render
from dockdrift.analysis.shapes.core import FINDING_KINDS, ShapeReport
from dockdrift.analysis.shapes.labels import FINDING_TITLES, groups, headline, types_cell

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_ENV.filters["types"] = types_cell

_BODY = _ENV.from_string("""
<style>
tr.differ td{background:#fff0f6} tr.differ td:first-child{border-left:4px solid #d6336c}
details{margin:4px 0 14px} summary{cursor:pointer} td.absent{color:#adb5bd}
.doc{color:#868e96;font-size:11px} h3{font-size:15px;margin:18px 0 4px}
</style>
<div class="verdict {{ 'undocumented' if bad else 'documented' }}">{{ verdict }}</div>
<div class="cards">
{% for name, value, cls in cards %}
<div class="card {{ cls }}"><b>{{ value }}</b>{{ name }}</div>
{% endfor %}
</div>
<h2>Responses, implementations side by side</h2>
<p class="legend small">Each cell: the JSON types that implementation answered at that field
(<b>—</b>: it answered this response without the field; blank: it never answered it), and below,
in grey, the types its documentation gives. A field <b>differs</b> when the implementations that
answered have different type sets.</p>
{% for name, rows in blocks %}
{% set differ = rows | rejectattr('agree') | list %}
<h3><code>{{ name }}</code> {{ ('%d of %d fields differ' % (differ|length, rows|length)) if differ else ('%d fields, alike' % rows|length) }}</h3>
{% set labels = labels_of[name] %}
{% if differ %}{{ table(differ, labels) }}{% endif %}
{% set alike = rows | selectattr('agree') | list %}
{% if alike %}
<details><summary class="small">{{ alike|length }} fields alike</summary>{{ table(alike, labels) }}</details>
{% endif %}
{% endfor %}
<h2>Against the documentation</h2>
{% for label, kinds in findings %}
<h3>{{ label }}</h3>
{% for kind, found in kinds %}
<details {{ 'open' if found|length <= 12 else '' }}><summary>{{ titles[kind] }} ({{ found|length }})</summary>
<table><thead><tr><th>response</th><th>field</th><th>sent</th><th>documented</th><th>table</th></tr></thead><tbody>
{% for f in found %}
<tr><td><code>{{ f.method }} {{ f.route }} {{ f.status }}</code>{% if f.case %} <span class="small">[{{ f.case }}]</span>{% endif %}</td><td><code>{{ f.field }}</code></td>
<td>{{ f.observed | types }}</td><td>{{ f.documented | types }}</td><td>{{ f.table }}</td></tr>
{% endfor %}
</tbody></table></details>
{% endfor %}
{% else %}<p class="small">no differences from the documentation</p>
{% endfor %}
{% if requests %}
<h2>Request bodies: fields clients sent</h2>
<table><thead><tr><th>request</th><th>client</th><th>field</th><th>types</th><th>documented</th><th>count</th></tr></thead><tbody>
{% for r in requests %}
<tr class="{{ 'differ' if r.documented == [] else '' }}"><td><code>{{ r.method }} {{ r.route }}</code></td><td>{{ r.client }}</td>
<td><code>{{ r.field }}</code></td><td>{{ r.types | types }}</td><td>{{ 'not documented' if r.documented == [] else (r.documented | types) }}</td><td>{{ r.count }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
""")

_TABLE = _ENV.from_string("""
<table><thead><tr><th>field</th>{% for l in labels %}<th>{{ l }}</th>{% endfor %}</tr></thead><tbody>
{% for r in rows %}
<tr class="{{ '' if r.agree else 'differ' }}"><td><code>{{ r.field }}</code></td>
{% for l in labels %}
{% set obs = r.observed.get(l) %}
<td class="{{ 'absent' if obs == [] else '' }}">{{ obs | types }}{% if r.documented.get(l) is not none %}<div class="doc">doc: {{ r.documented.get(l) | types }}</div>{% endif %}</td>
{% endfor %}
</tr>
{% endfor %}
</tbody></table>
""")


def _table(rows: list, labels: list[str]) -> str:
    from markupsafe import Markup

    return Markup(_TABLE.render(rows=rows, labels=labels))


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
    body = _BODY.render(
        bad=report.has_findings, verdict=headline(report), cards=cards, blocks=blocks,
        labels_of={name: [lbl for lbl in report.implementations if lbl in rows[0].observed]
                   for name, rows in blocks},
        table=_table, findings=findings, titles=FINDING_TITLES, requests=report.requests)
    return render.html_page("dockdrift shapes", [("", body)],
                            ", ".join(report.implementations))
