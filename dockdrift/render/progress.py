"""Progress on stderr, drawn by rich: a spinner while something slow runs, a bar over a known
total. Drawn only on a terminal (a pipe, a log file or CI gets nothing), and rich is imported
only when something is drawn, so `--help` and pipelines never load it.

    with Spinner("opening the capture") as s:
        s.update("comparing")
    with Bar("import", total=rows, unit="rows") as bar:
        bar.advance(500)

Off a terminal, `bar_or_lines` gives a log (cron, CI) one line per 10% instead.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from dockdrift.render.base import on_terminal


def _console(stream: IO[str]) -> Any:
    from rich.console import Console

    return Console(file=stream, force_terminal=True, highlight=False)


class Spinner:
    """A spinner line with a message that the caller updates as the work moves on."""

    def __init__(self, message: str, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.message = message
        self._status: Any = None

    def update(self, message: str) -> None:
        self.message = message
        if self._status is not None:
            self._status.update(f"{message}…")

    def __enter__(self) -> Spinner:
        if on_terminal(self.stream):
            self._status = _console(self.stream).status(f"{self.message}…")
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()  # rich clears the line: the command's output stays clean


class Bar:
    """A bar over `total` units: share, done/total, rate and time left; `enabled` None = on a
    terminal. `min_interval` bounds how often it is redrawn (seconds)."""

    def __init__(self, label: str, total: int, *, unit: str = "", enabled: bool | None = None,
                 stream: IO[str] | None = None, min_interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = on_terminal(self.stream) if enabled is None else enabled
        self.label, self.total = label, max(total, 1)
        self.done = 0
        self._progress: Any = None
        if self.enabled:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                                       TextColumn, TimeRemainingColumn)
            from rich.text import Text

            class Rate(ProgressColumn):  # rich's speed columns speak bytes or hide with a total
                def render(self, task: Any) -> Text:
                    rate = f"{task.speed or 0:,.0f}"
                    return Text(f"{rate} {unit}/s" if unit else f"{rate}/s")

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(bar_width=30),
                TextColumn("{task.percentage:5.1f}%"), MofNCompleteColumn(), Rate(),
                TimeRemainingColumn(),
                console=_console(self.stream), transient=False,
                refresh_per_second=1 / max(min_interval, 0.1))
            self._task = self._progress.add_task(label, total=self.total)
            self._progress.start()

    def update(self, done: int) -> None:
        """`done` units so far."""
        self.done = done
        if self._progress is not None:
            self._progress.update(self._task, completed=min(done, self.total))

    def advance(self, n: int) -> None:
        """`n` more units."""
        self.update(self.done + n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Lines:
    """Off a terminal: one line on stderr per 10% of `total`, for a log to read later."""

    def __init__(self, label: str, total: int, unit: str = "") -> None:
        self.label, self.total, self.done, self._next = label, max(total, 1), 0, 0.1
        self.unit = f" {unit}" if unit else ""

    def advance(self, n: int) -> None:
        self.done += n
        share = min(self.done / self.total, 1.0)
        if share >= self._next:
            print(f"{self.label}: {share:.0%} ({self.done}/{self.total}{self.unit})", file=sys.stderr)
            self._next = (int(share * 10) + 1) / 10

    def close(self) -> None:
        pass


def bar_or_lines(label: str, total: int, unit: str = "") -> Bar | Lines:
    """A bar on a terminal, else a line per 10%."""
    return Bar(label, total, unit=unit) if on_terminal(sys.stderr) else Lines(label, total, unit)
