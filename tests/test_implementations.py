"""How each implementation says who it is (db.implementations), from answers of their shape."""

from __future__ import annotations

import json

import pytest

from dockdrift.db.implementations import (
    from_server_header,
    from_version_body,
    implementation_label,
)
from dockdrift.db.target import TargetTracker

ENGINE_20 = {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "Components": [
    {"Name": "Engine", "Version": "20.10.24+dfsg1"}, {"Name": "containerd", "Version": "1.6"}]}
ENGINE_26 = {"Version": "26.1.5+dfsg1", "ApiVersion": "1.45",
             "Components": [{"Name": "Engine", "Version": "26.1.5+dfsg1"}]}
PODMAN = {"Version": "4.3.1", "ApiVersion": "1.41",
          "Components": [{"Name": "Podman Engine", "Version": "4.3.1"},
                         {"Name": "Conmon", "Version": "conmon version 2.1.6"}]}
SWARM_VERSION = {"Version": "swarm/1.2.9", "ApiVersion": "1.22"}
SWARM_INFO = {"ServerVersion": "swarm/1.2.9", "Containers": 3}


@pytest.mark.parametrize("doc, header, want", [
    (ENGINE_20, "Docker/20.10.24+dfsg1 (linux)", ("engine", "20.10.24+dfsg1", "engine 20.10.24+dfsg1")),
    (ENGINE_26, None, ("engine", "26.1.5+dfsg1", "engine 26.1.5+dfsg1")),
    (PODMAN, "Libpod/4.3.1 (linux)", ("podman", "4.3.1", "podman 4.3.1")),
    (PODMAN, None, ("podman", "4.3.1", "podman 4.3.1")),  # /version alone names Podman
    # Swarm copies the engine's Server header on what it proxies: the body wins
    (SWARM_VERSION, "Docker/1.10.3 (linux)", ("swarm", "1.2.9", "swarm 1.2.9")),
    (SWARM_INFO, None, ("swarm", "1.2.9", "swarm 1.2.9")),
    # Podman's /info looks like an Engine's: its Server header tells
    ({"ServerVersion": "4.3.1"}, "Libpod/4.3.1 (linux)", ("podman", "4.3.1", "podman 4.3.1")),
])
def test_identity_from_version_and_info_bodies(doc, header, want) -> None:
    found = from_version_body(json.dumps(doc).encode(), header)
    assert found is not None
    assert (found.kind, found.version, found.implementation) == want


def test_not_an_identity() -> None:
    assert from_version_body(b"page not found") is None
    assert from_version_body(b"[1, 2]") is None
    assert from_version_body(b'{"Version": 3}') is None
    assert from_server_header(None) is None
    assert from_server_header("nginx/1.25") is None
    assert from_server_header("Docker/26.1.5+dfsg1 (linux)") == ("engine", "26.1.5+dfsg1")
    assert implementation_label(None, None) == "unknown unknown"


def test_tracker_keeps_the_detected_kind_over_a_proxied_header() -> None:
    t = TargetTracker()
    t.configure("auto", None)
    assert (t.kind("Libpod/4.3.1 (linux)"), t.target_version("Libpod/4.3.1 (linux)")) == (
        "podman", "4.3.1")
    t.observe("GET", "/v1.22/version", 200, json.dumps(SWARM_VERSION).encode(),
              "Docker/1.10.3 (linux)")
    assert (t.kind("Docker/1.10.3 (linux)"), t.target_version("Docker/1.10.3 (linux)")) == (
        "swarm", "1.2.9")
    forced = TargetTracker()
    forced.configure("podman", None)
    assert forced.kind("Docker/20.10 (linux)") == "podman"
    assert forced.target_version("Docker/20.10 (linux)") is None  # not Podman's version
