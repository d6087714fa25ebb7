"""`dockdrift probe`: an active, safe conformance workload (cases → recorder → store).

The names below load on first use: `dockdrift probe --help` imports no case module.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CASES", "PROBE_VERSION", "Case", "select"]


def __getattr__(name: str) -> Any:
    if name == "Case":
        from dockdrift.probe.model import Case

        return Case
    if name in ("CASES", "PROBE_VERSION", "select"):
        from dockdrift.probe import cases

        return getattr(cases, name)
    raise AttributeError(name)
