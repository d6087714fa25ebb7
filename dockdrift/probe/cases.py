"""The probe's case table, versioned: a new case, or a changed request, bumps PROBE_VERSION.

Every case is sent at the daemon's own API version (the prefix a negotiating client such as
the docker CLI sends). The cases named in AT_VERSIONS are sent again at each API version of
the run (`--api-version`, default API_VERSIONS), named `<case>@<version>` (`version@1.41`),
so the matrix shows per case and version where floors, removed routes and changed defaults
differ. A version above a daemon's own is sent too: its 400 is a finding.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dockdrift.probe import cases_containers, cases_images, cases_since, cases_system
from dockdrift.probe.model import Case

PROBE_VERSION = "2"

CASES: tuple[Case, ...] = (cases_system.SYSTEM + cases_containers.CASES + cases_system.EXEC
                           + cases_images.CASES + cases_system.NETWORKS + cases_system.VOLUMES
                           + cases_since.CASES)

# 1.24: the floor of Engine 25-28 and Podman; 1.41: Engine 20.10 and Podman 4.3 (what many
# clients pin); 1.44: Engine 29.0's floor (DOCKER_MIN_API_VERSION=1.44 here).
API_VERSIONS: tuple[str, ...] = ("1.24", "1.41", "1.44")
AT_VERSIONS: frozenset[str] = frozenset({
    "ping", "version", "info", "containers-list", "inspect-container", "images-list",
    "image-inspect", "networks-list", "volumes-list", "exec-create",
    *(c.name for c in cases_since.CASES)})
_VERSION = re.compile(r"[0-9]+\.[0-9]+")


def check_version(version: str) -> str:
    """`1.41` (or `v1.41`) -> `1.41`; ValueError for anything that is not MAJOR.MINOR."""
    v = version.removeprefix("v")
    if not _VERSION.fullmatch(v):
        raise ValueError(f"--api-version {version!r}: expected MAJOR.MINOR, e.g. 1.41")
    return v


def at_version(case: Case, version: str) -> Case:
    """The case sent at /v<version> (its setups at the daemon's own), named `case@version`."""
    return replace(case, name=f"{case.name}@{version}", version=version, api=version)


def table(versions: tuple[str, ...] | list[str] = API_VERSIONS) -> list[Case]:
    """Every case at the daemon's version, then the AT_VERSIONS cases at each version."""
    return list(CASES) + [at_version(c, v) for v in versions for c in CASES
                          if c.name in AT_VERSIONS]


def select(names: list[str] | None, versions: list[str] | None = None) -> list[Case]:
    """The cases named (in table order), or all; raises KeyError naming an unknown one.

    `versions`: the run's API versions (None: API_VERSIONS). A name `case@X.Y` selects that
    case at /vX.Y, whether or not X.Y is among them (any case sent at the daemon's version)."""
    run = table(API_VERSIONS if versions is None else versions)
    if not names:
        return run
    known = {c.name: c for c in run}
    base = {c.name: c for c in CASES if c.version is None}
    extra = []
    for name in dict.fromkeys(names):
        if name in known:
            continue
        case, _, version = name.rpartition("@")
        if case not in base or not _VERSION.fullmatch(version):
            raise KeyError(name)
        extra.append(at_version(base[case], version))
    wanted = set(names)
    return [c for c in run if c.name in wanted] + [c for c in extra if c.name in wanted]
