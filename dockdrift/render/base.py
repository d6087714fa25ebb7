"""Generic rendering helpers shared by every renderer and command.

Nothing here knows what a report is: ANSI colour, plain-text and Markdown tables, CSV, JSON,
and writing a command's output. Progress is dockdrift.render.progress's, HTML
dockdrift.render.html's (templates).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
        "dim": "2", "bold": "1", "bold-red": "1;31", "bold-green": "1;32"}

def on_terminal(stream: IO[str]) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def wants_color(stream: IO[str] | None = None) -> bool:
    """ANSI only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and on_terminal(stream or sys.stdout)


def color(text: str, code: str | None, enabled: bool = True) -> str:
    """Wrap `text` in an ANSI colour (a name of ANSI or a raw SGR code) when enabled."""
    if not enabled or not code:
        return text
    return f"\x1b[{ANSI.get(code, code)}m{text}\x1b[0m"


def text_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A left-aligned table, a row of dashes under the headers, two spaces between columns,
    drawn by rich (imported here: only text output pays for it); cells may carry ANSI colour,
    which is kept. Never wrapped: a pipe gets whole rows."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[Text.from_ansi(str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [r[i].cell_len for r in cells]) for i, h in enumerate(headers)]
    grid = Table.grid(padding=(0, 2, 0, 0))
    for _ in headers:
        grid.add_column(no_wrap=True, overflow="ignore")
    grid.add_row(*headers)
    grid.add_row(*("-" * w for w in widths))
    for row in cells:
        grid.add_row(*row)
    colored = any(r.spans for row in cells for r in row)
    out = io.StringIO()
    Console(file=out, width=1 << 16, force_terminal=colored, color_system="standard" if colored
            else None, highlight=False, emoji=False, markup=False).print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def md_escape(text: object) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    w.writerows(["" if c is None else c for c in r] for r in rows)
    return buf.getvalue()


def to_json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def write_output(text: str, output: Path | None) -> None:
    """A command's data to stdout, or to --output with one `wrote PATH` line on stderr."""
    from dockdrift.errors import UsageError

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)
