"""Which documented shape an answer is compared with (`--against own|spec|spec:VERSION`).

- `own` (default): each implementation's own documentation. The Engine (and Swarm): the spec
  at the request's API version (`/v1.41/...`), or the release's own API version when the
  request named none (db.implementations.api_version_of, from RELEASES), nearest at or below. Podman's
  compat routes: Docker's spec at its compat API version; its libpod routes: none (no
  swagger of Podman's is in reach, so they are documented as unknown, never as wrong). Its
  compat API version is its /version `ApiVersion` (4.3.1: 1.41; 5.8.6: 1.44, so spec 1.41,
  the nearest below).
- `spec`: the Engine spec nearest at or below the request's API version (as `own` for
  requests without one), for every implementation; `spec:1.41`: that spec for all.
"""

from __future__ import annotations

from dockdrift.analysis.against import AgainstError, nearest_version
from dockdrift.db.implementations import api_version_of
from dockdrift.db.routes import route_shape
from dockdrift.db.spec_shapes import DocShape, read_spec_shapes, shape_files

LIBPOD_PREFIX = "/libpod/"


class DocIndex:
    """`lookup(target, target_version, method, route, status, api_version)` -> (table, shape)."""

    def __init__(self, against: str = "own") -> None:
        self.versions = list(shape_files())
        if not self.versions:
            raise AgainstError("no documented shapes are loaded (db/data/shapes-spec-v*.json)")
        kind, _, fixed = against.partition(":")
        fixed = fixed.removeprefix("v")
        if kind not in ("own", "spec") or (kind == "own" and fixed) or (":" in against and not fixed):
            raise AgainstError(f"--against must be own, spec or spec:VERSION for shapes "
                               f"(versions: {', '.join(self.versions)}), not {against!r}")
        if fixed and fixed not in self.versions:
            raise AgainstError(f"no documented shapes for API {fixed!r}; available versions: "
                               f"{', '.join(self.versions)}")
        self.kind, self.fixed = kind, fixed or None
        self._specs: dict[str, dict[tuple[str, str], dict[str, DocShape]]] = {}

    def version_for(self, target: str | None, target_version: str | None, route: str,
                    api_version: str | None) -> str | None:
        """The spec version that documents this answer, or None (Podman's libpod routes)."""
        if self.fixed:
            return self.fixed
        if target == "podman" and self.kind == "own":
            if route.startswith(LIBPOD_PREFIX):
                return None
            api_version = api_version_of(target, target_version)
        elif not api_version:
            api_version = api_version_of(target, target_version)
        return nearest_version(api_version, self.versions)

    def _spec(self, version: str) -> dict[tuple[str, str], dict[str, DocShape]]:
        if version not in self._specs:
            index: dict[tuple[str, str], dict[str, DocShape]] = {}
            for key, entry in read_spec_shapes(version).items():
                method, route = key.split(" ", 1)
                index[(method, route_shape(route))] = entry
            self._specs[version] = index
        return self._specs[version]

    def lookup(self, target: str | None, target_version: str | None, method: str, route: str,
               status: int | str, api_version: str | None) -> tuple[str | None, DocShape | None]:
        """(`spec-v1.41` or None, the documented shape or None when nothing documents it)."""
        version = self.version_for(target, target_version, route, api_version)
        if version is None:
            return None, None
        entry = self._spec(version).get((method, route_shape(route)), {})
        return f"spec-v{version}", entry.get(str(status))

    def request(self, target: str | None, target_version: str | None, method: str, route: str,
                api_version: str | None) -> DocShape | None:
        version = self.version_for(target, target_version, route, api_version)
        if version is None:
            return None
        return self._spec(version).get((method, route_shape(route)), {}).get("request")
