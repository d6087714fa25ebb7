"""`dockdrift matrix`: implementations of the Docker API side by side.

Public API: `load.matrix_counts` (the SQL aggregate), `core.build_matrix` -> `core.Matrix`
(pure; `Matrix.to_dict()`), `load.load_matrix` (both in one call), `documented.documented_codes`
(the adapter to the documented tables), renderers in `render` (text, markdown, csv, json),
`page.to_html`, `seed` (the source document's layout), `plots`.
"""
