"""The probe's case table, versioned: a new case, or a changed request, bumps PROBE_VERSION."""

from __future__ import annotations

from dockdrift.probe import cases_containers, cases_images, cases_system
from dockdrift.probe.model import Case

PROBE_VERSION = "1"

CASES: tuple[Case, ...] = (cases_system.SYSTEM + cases_containers.CASES + cases_system.EXEC
                           + cases_images.CASES + cases_system.NETWORKS + cases_system.VOLUMES)


def select(names: list[str] | None) -> list[Case]:
    """The cases named (in table order), or all; raises KeyError naming an unknown one."""
    if not names:
        return list(CASES)
    known = {c.name for c in CASES}
    for name in names:
        if name not in known:
            raise KeyError(name)
    return [c for c in CASES if c.name in set(names)]
