"""Renderers: a typed result (Report, Matrix, a drift result) in, text out; never an engine.

Public: `report`, `drift`, `matrix` (text, markdown, csv, json per result; `FORMATS`),
`matrix_page.to_html`, `html.page` (the Jinja2 templates in templates/, autoescaped), and
`base` (terminal and Markdown tables, CSV, JSON, colour, progress, `write_output`).
"""
