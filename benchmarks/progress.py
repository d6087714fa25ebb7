"""A one-line progress bar on stderr when it is a terminal; silent otherwise (CI, pipes)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, *, enabled: bool | None = None,
                 stream=None, min_interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label, self.total, self.min_interval = label, max(total, 1), min_interval
        self.started = self._last = time.monotonic()
        self._shown = False

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.min_interval and done < self.total):
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        rate = done / (now - self.started) if now > self.started else 0.0
        eta = (self.total - done) / rate if rate else 0.0
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {frac:6.1%} {done:,}/{self.total:,} "
                          f"{rate:,.0f}/s eta {eta:4.0f}s ")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
