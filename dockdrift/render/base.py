"""Generic rendering helpers shared by every renderer and command.

Nothing here knows what a report is: ANSI colour, plain-text and Markdown tables, CSV, JSON,
a progress line, and writing a command's output. HTML is dockdrift.render.html's (templates).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36",
        "dim": "2", "bold": "1", "bold-red": "1;31", "bold-green": "1;32"}

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
    from dockdrift.errors import UsageError

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)
