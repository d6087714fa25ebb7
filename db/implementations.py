"""The implementations of the Docker API dockdrift knows, as data: how each one says who it is.

An *implementation* is (target, target_version, API floor), written `podman 4.3.1`; a floor
other than the release's default (RELEASES, with sources) is part of its name: the same Engine
started with DOCKER_MIN_API_VERSION=1.44 (Engine 29.0's floor) is `engine 28.5.2+dfsg4 (min API
1.44)`, its own column everywhere. The floor is /version's `MinAPIVersion`. The target
kind is told by the answer to `GET /version` (classic Swarm: `"Version": "swarm/1.2.9"`;
Podman: a component named `Podman Engine`) and, for answers that pass without a /version,
by the `Server` header (`Docker/26.1.5+dfsg1 (linux)`, `Libpod/4.3.1 (linux)`). Swarm copies
the engine's `Server` header on answers it proxies, so a header alone never overrides what
/version said.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of server that speaks the Docker API."""

    name: str  # the `target` value stored with each exchange
    server_prefix: str | None  # its Server header, e.g. "Docker/"
    version_prefix: str | None  # a prefix of /version's "Version", e.g. "swarm/"
    component: str | None  # a /version component that names it, e.g. "Podman Engine"
    identity_prefix: str  # how the `server` column writes it: "Docker/", "swarm/", ...


# Most specific first: the first kind whose marks an answer carries is the one.
KINDS: tuple[Kind, ...] = (
    Kind("swarm", None, "swarm/", None, "swarm/"),
    Kind("podman", "Libpod/", None, "Podman Engine", "Libpod/"),
    Kind("engine", "Docker/", None, None, "Docker/"),
)
TARGET_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)


@dataclass(frozen=True)
class Release:
    """From release `since` of one kind on (until the next row): the newest Docker API version
    it speaks and its default API floor. Versions compare numerically (`28.5.2+dfsg4` >= `28.3`)."""

    kind: str
    since: str
    api_version: str | None  # None: not known here
    min_api_version: str | None
    source: str


# Oldest first per kind. Engine: the API version matrix of Docker's Engine API documentation,
# the release notes named, and what the daemons on this machine report (DESIGN.md).
RELEASES: tuple[Release, ...] = (
    Release("engine", "20.10", "1.41", "1.12", "measured: Engine 20.10.24 /version"),
    Release("engine", "23.0", "1.42", "1.12", "Engine API version matrix"),
    Release("engine", "24.0", "1.43", "1.12", "Engine API version matrix"),
    Release("engine", "25.0", "1.44", "1.24", "moby PR 46887 (v25.0: floor 1.24, "
            "DOCKER_MIN_API_VERSION); docker/docs PR 19604 ('Moby v25 is on API 1.44')"),
    Release("engine", "26.0", "1.45", "1.24", "measured: Engine 26.1.5 /version"),
    Release("engine", "27.0", "1.46", "1.24", "Engine API version matrix"),
    Release("engine", "28.0", "1.48", "1.24", "Engine API version matrix; docker/docs PR "
            "22066: 28.0.0 'API version: 1.48 (minimum version 1.24)'"),
    Release("engine", "28.1", "1.49", "1.24", "Engine API version matrix; docker/docs PR "
            "22653: 28.1.1 'API version: 1.49 (minimum version 1.24)'"),
    Release("engine", "28.2", "1.50", "1.24", "Engine API version matrix"),
    Release("engine", "28.3", "1.51", "1.24", "measured: Engine 28.5.2 /version "
            "(engine-api-v1.51.yaml is moby v28.5.2's swagger)"),
    Release("engine", "29.0", "1.52", "1.44", "moby PR 51186, release notes 29.0.0; "
            "docker/docs PR 23773: 29.0.4 'API version: 1.52 (minimum version 1.44)'"),
    Release("engine", "29.3", "1.54", "1.40", "moby PR 52067 (29.3 lowered the floor to 1.40); "
            "docker/buildx PR 3684: docker/cli v29.3.0 vendors moby/api v1.54.0"),
    Release("podman", "4.0", None, "1.24", "podman version/version.go (compat minimum 1.24)"),
    Release("podman", "4.3", "1.41", "1.24", "measured: Podman 4.3.1 /version; "
            "podman v4.3.1 version/version.go"),
    Release("podman", "5.8", "1.44", "1.24", "podman v5.8.3 version/version.go "
            "(specs/podman-README.md); measured: Podman 5.8.6 /version"),
)


def _numbers(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split("+", 1)[0].split("-", 1)[0].split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def release_of(kind: str | None, version: str | None) -> Release | None:
    """The RELEASES row a (kind, version) falls in; None when the data says nothing of it."""
    if not kind or not version or not _numbers(version):
        return None
    found = None
    for r in RELEASES:
        if r.kind == kind and _numbers(r.since) <= _numbers(version):
            found = r
    return found


def default_floor(kind: str | None, version: str | None) -> str | None:
    release = release_of(kind, version)
    return release.min_api_version if release else None


def api_version_of(kind: str | None, version: str | None) -> str | None:
    """The newest API version a release speaks (what a request without /vX.Y gets)."""
    release = release_of(kind, version)
    return release.api_version if release else None


@dataclass(frozen=True)
class Identity:
    kind: str  # engine | swarm | podman
    version: str  # the implementation's own version: 20.10.24+dfsg1, 1.2.9, 4.3.1
    server: str  # what the `server` column stores when no Server header says more
    min_api_version: str | None = None  # /version's MinAPIVersion (an /info body has none)

    @property
    def implementation(self) -> str:
        return implementation_label(self.kind, self.version, self.min_api_version)


def implementation_label(target: str | None, version: str | None,
                         min_api_version: str | None = None) -> str:
    """(`podman`, `4.3.1`) -> `podman 4.3.1`; a missing part is written `unknown`. A floor
    other than the release's known default is part of the name:
    (`engine`, `28.5.2+dfsg4`, `1.44`) -> `engine 28.5.2+dfsg4 (min API 1.44)`."""
    label = f"{target or 'unknown'} {version or 'unknown'}"
    if min_api_version and min_api_version != default_floor(target, version):
        label += f" (min API {min_api_version})"
    return label


def from_server_header(header: str | None) -> tuple[str, str] | None:
    """`Libpod/4.3.1 (linux)` -> ("podman", "4.3.1"); None when no kind claims it."""
    if not header:
        return None
    for kind in KINDS:
        if kind.server_prefix and header.startswith(kind.server_prefix):
            version = header[len(kind.server_prefix):].split(" ", 1)[0]
            return kind.name, version
    return None


def _component_kind(doc: dict) -> tuple[Kind, str] | None:
    components = doc.get("Components")
    if not isinstance(components, list):
        return None
    for comp in components:
        if not isinstance(comp, dict):
            continue
        for kind in KINDS:
            if kind.component and comp.get("Name") == kind.component:
                version = comp.get("Version") or doc.get("Version")
                return kind, str(version) if version else ""
    return None


def from_version_body(body: bytes, server_header: str | None = None) -> Identity | None:
    """A GET /version or /info body (and its Server header) -> who answered, when it says.

    /version names the kind; /info (`ServerVersion`) only tells Swarm apart for sure, so an
    /info that is not Swarm's takes its kind from the Server header (Podman's /info looks like
    an Engine's).
    """
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    version = doc.get("Version") or doc.get("ServerVersion")
    if not isinstance(version, str) or not version:
        return None
    floor = doc.get("MinAPIVersion")
    floor = floor if isinstance(floor, str) and floor else None
    for kind in KINDS:
        if kind.version_prefix and version.startswith(kind.version_prefix):
            v = version[len(kind.version_prefix):]
            return Identity(kind.name, v, version, floor)
    found = _component_kind(doc)
    if found is None and "Version" not in doc:  # an /info body: ask the header
        header = from_server_header(server_header)
        if header is not None:
            found = next((k, version) for k in KINDS if k.name == header[0])
    kind = found[0] if found else next(k for k in KINDS if k.name == "engine")
    v = (found[1] if found else "") or version
    return Identity(kind.name, v, f"{kind.identity_prefix}{v}", floor)
