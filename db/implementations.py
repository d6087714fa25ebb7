"""The implementations of the Docker API dockdrift knows, as data: how each one says who it is.

An *implementation* is the pair (target, target_version), written `podman 4.3.1`. The target
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
class Identity:
    kind: str  # engine | swarm | podman
    version: str  # the implementation's own version: 20.10.24+dfsg1, 1.2.9, 4.3.1
    server: str  # what the `server` column stores when no Server header says more

    @property
    def implementation(self) -> str:
        return implementation_label(self.kind, self.version)


def implementation_label(target: str | None, version: str | None) -> str:
    """(`podman`, `4.3.1`) -> `podman 4.3.1`; a missing part is written `unknown`."""
    return f"{target or 'unknown'} {version or 'unknown'}"


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
    for kind in KINDS:
        if kind.version_prefix and version.startswith(kind.version_prefix):
            v = version[len(kind.version_prefix):]
            return Identity(kind.name, v, version)
    found = _component_kind(doc)
    if found is None and "Version" not in doc:  # an /info body: ask the header
        header = from_server_header(server_header)
        if header is not None:
            found = next((k, version) for k in KINDS if k.name == header[0])
    kind = found[0] if found else next(k for k in KINDS if k.name == "engine")
    v = (found[1] if found else "") or version
    return Identity(kind.name, v, f"{kind.identity_prefix}{v}")


# The API version each release answers in when a request names none (its /version
# `ApiVersion`): Engine releases from moby's docs/api/version-history.md (20.10, 26.1 and 28.5
# measured here: 1.41, 1.45, 1.51); Podman's is its compat API (version/version.go; measured:
# 4.3.1 says 1.41, 5.8.6 says 1.44); its libpod API has no Docker version. Keyed by
# `major.minor` (or `major` for a whole series).
API_VERSIONS: dict[str, dict[str, str]] = {
    "engine": {"17.03": "1.26", "17.06": "1.30", "18.09": "1.39", "19.03": "1.40",
               "20.10": "1.41", "23.0": "1.42", "24.0": "1.43", "25.0": "1.44",
               "26.0": "1.45", "26.1": "1.45", "27.0": "1.46", "27.1": "1.46",
               "27.2": "1.47", "27.3": "1.47", "27.4": "1.47", "27.5": "1.47",
               "28.0": "1.48", "28.1": "1.49", "28.2": "1.50", "28.3": "1.51",
               "28.4": "1.51", "28.5": "1.51", "29.0": "1.52"},
    "podman": {"4": "1.41", "5.8": "1.44"},
}


def default_api_version(target: str | None, version: str | None) -> str | None:
    """`("engine", "26.1.5+dfsg1")` -> "1.45"; `("podman", "5.8.6")` -> "1.44"; else None."""
    table = API_VERSIONS.get(target or "", {})
    parts = (version or "").split("+", 1)[0].split(".")
    for n in (2, 1):
        hit = table.get(".".join(parts[:n]))
        if hit:
            return hit
    return None
