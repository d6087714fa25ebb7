"""`dockdrift probe`: an active, safe conformance workload (cases → recorder → store)."""

from dockdrift.probe.cases import CASES, PROBE_VERSION, select
from dockdrift.probe.model import Case

__all__ = ["CASES", "PROBE_VERSION", "Case", "select"]
