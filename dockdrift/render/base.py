"""Generic rendering helpers shared by the report and drift commands.

Nothing here knows what a report is: ANSI colour, plain-text / Markdown / HTML tables, one
self-contained HTML page, matplotlib figures as data URIs, CSV, JSON, and a progress line.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import itertools
import json
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
        "dim": "2", "bold": "1", "bold-red": "1;31", "bold-green": "1;32"}

# Colours used by every HTML page and chart, so the legend means the same everywhere.
PALETTE = {"documented": "#2b8a3e", "undocumented": "#d6336c", "unobserved": "#adb5bd",
           "observed": "#1c7ed6", "muted": "#868e96", "swarm": "#f59f00", "engine": "#1c7ed6"}


def wants_color(stream: IO[str] | None = None) -> bool:
    """ANSI only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def color(text: str, code: str | None, enabled: bool = True) -> str:
    """Wrap `text` in an ANSI colour (a name of ANSI or a raw SGR code) when enabled."""
    if not enabled or not code:
        return text
    return f"\x1b[{ANSI.get(code, code)}m{text}\x1b[0m"


def visible_len(text: str) -> int:
    """Length on screen (ANSI escapes take no room)."""
    out, skip = 0, False
    for ch in text:
        if ch == "\x1b":
            skip = True
        elif skip and ch == "m":
            skip = False
        elif not skip:
            out += 1
    return out


def text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A left-aligned, space-padded table; cells may already contain ANSI colour."""
    rows = [list(map(str, r)) for r in rows]
    widths = [max([len(h)] + [visible_len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [c + " " * (w - visible_len(c)) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def md_escape(text: object) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]],
               raw: bool = False, cls: str = "") -> str:
    """An HTML table; cells are escaped unless `raw` (then the caller escaped them)."""
    cell = (lambda c: str(c)) if raw else (lambda c: html.escape(str(c)))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def badge(text: str, kind: str) -> str:
    """A small coloured label (kind: a PALETTE key)."""
    return f'<span class="badge {kind}">{html.escape(text)}</span>'


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1300px;
color:#212529;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;
padding-bottom:4px} .meta{color:#868e96;margin-bottom:12px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px} th,td{padding:3px 8px;
border-bottom:1px solid #e9ecef;text-align:left;vertical-align:top} th{background:#f8f9fa}
code{font:12px ui-monospace,Menlo,monospace} img{max-width:100%;height:auto}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid #dee2e6;border-radius:6px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:22px} .card.bad b{color:#d6336c} .card.good b{color:#2b8a3e}
.badge{display:inline-block;border-radius:3px;padding:0 5px;margin:1px 2px;
font:12px ui-monospace,monospace;color:#fff} .badge.documented{background:#2b8a3e} .badge.undocumented{background:#d6336c}
.badge.unobserved{background:#fff;color:#868e96;border:1px dashed #adb5bd}
.badge.observed{background:#1c7ed6} .badge.muted{background:#868e96}
.verdict{font-size:16px;font-weight:600;padding:8px 14px;border-radius:6px;color:#fff;margin:8px 0}
.verdict.undocumented{background:#d6336c} .verdict.documented{background:#2b8a3e}
footer{margin-top:32px;border-top:1px solid #dee2e6;padding-top:6px}
.legend{background:#f8f9fa;border-radius:6px;padding:8px 14px} .small{font-size:12px;color:#495057}
"""


def html_page(title: str, sections: Sequence[tuple[str, str]], subtitle: str = "") -> str:
    """One self-contained HTML page: inline CSS, each section (heading, html body) in order."""
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        parts.append(f'<div class="meta">{html.escape(subtitle)}</div>')
    for heading, body in sections:
        if heading:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(body)
    parts.append(f'<footer class="small meta">{html.escape(_made_by())}</footer>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _made_by() -> str:
    """The footer of every HTML page: which dockdrift (and schema, mitmproxy) made it."""
    from dockdrift.db.version import version_line

    return f"made by {version_line()}"


def figure_to_data_uri(fig: Any, dpi: int = 110) -> str:
    """A matplotlib Figure as a base64 PNG data URI (closes nothing: the caller owns it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def img(fig: Any, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{figure_to_data_uri(fig)}">'


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    w.writerows(["" if c is None else c for c in r] for r in rows)
    return buf.getvalue()


def to_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


class Progress:
    """A spinner line on stderr while something slow runs; silent when stderr is not a tty.

    >>> with Progress("loading") as p:
    ...     p.update("comparing")
    """

    def __init__(self, message: str, stream: IO[str] | None = None, interval: float = 0.1):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.message, self.interval = message, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, message: str) -> None:
        self.message = message

    def _spin(self) -> None:
        for frame in itertools.cycle("|/-\\"):
            if self._stop.wait(self.interval):
                break
            self.stream.write(f"\r\x1b[2K{frame} {self.message}…")
            self.stream.flush()

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def write_output(text: str, output: Path | None) -> None:
    """A command's data to stdout, or to --output with one `wrote PATH` line on stderr."""
    from dockdrift.analysis.errors import AnalysisError

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AnalysisError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)
