"""The benchmarks draw the same progress bar as dockdrift (rich, on a terminal only)."""

from __future__ import annotations

from dockdrift.render.progress import Bar as Progress

__all__ = ["Progress"]
