"""Probe cases for what the Engine API changed since 1.41 (Engine 20.10, Podman 4's compat API)
that can be exercised here without a registry or a network: each is sent at the daemon's own
version and again at every --api-version, where the answer may depend on the version asked.

From the version history of the Engine's OpenAPI (specs/engine-api-v1.45.yaml, v1.51.yaml):
- 1.44: the container-wide `MacAddress` of POST /containers/create is deprecated (it moved to
  the endpoint settings); `Healthcheck.StartInterval` is new and must be at least 1 ms.
- 1.24: a non-empty body on POST /containers/{id}/start (a HostConfig) is refused.
- 1.42: GET /system/df takes `type`; 1.48: GET /images/{name}/json takes `manifests`.
- 1.45: GET /images/{name}/json drops `Container` and `ContainerConfig` (a shape, not a code).
"""

from __future__ import annotations

from dockdrift.probe import setups as s
from dockdrift.probe.model import Case

CT = "/containers/{name:.*}"
MAC = "02:42:ac:11:00:99"  # locally administered; the container never starts


def _body_start(c):
    s.container(c, "bodystart" + c.vars["at"])


CASES: tuple[Case, ...] = (
    Case("create-mac-address", "POST", "/containers/create", "201",
         "/containers/create?name=${p}-mac${at}",
         {"Image": "${image}", "Cmd": ["true"], "MacAddress": MAC, "Labels": {s.LABEL: "${p}"},
          "HostConfig": {"NetworkMode": "none"}},
         note="container-wide MacAddress, deprecated in 1.44"),
    Case("create-healthcheck-start-interval", "POST", "/containers/create", "400",
         "/containers/create?name=${p}-hc${at}",
         {"Image": "${image}", "Cmd": ["true"], "Labels": {s.LABEL: "${p}"},
          "Healthcheck": {"Test": ["CMD", "true"], "StartInterval": 1000}},
         note="StartInterval 1 µs: below 1 ms, checked from 1.44"),
    Case("start-with-body", "POST", f"{CT}/start", "400",
         "/containers/${p}-bodystart${at}/start", {"Binds": [], "Privileged": False},
         setup=_body_start, note="a HostConfig on start, refused from 1.24 (400 documented "
         "from 1.52)"),
    Case("system-df-type", "GET", "/system/df", "200", "/system/df?type=container",
         timeout=60, note="type: new in 1.42"),
    Case("image-inspect-manifests", "GET", "/images/{name:.*}/json", "200",
         "/images/${image}/json?manifests=1", note="manifests: new in 1.48"),
)
