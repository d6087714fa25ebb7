"""Each real server the tests drive is the implementation the registry says (issue 9, item 1).

A wrong daemon on a port (another version, Podman where an Engine should be) would make every
comparison between implementations wrong without failing any other test.
"""

from __future__ import annotations

import json

import pytest

from conftest import Implementation, docker_cli

pytestmark = pytest.mark.docker


def test_server_is_the_registered_implementation(daemon: Implementation):
    r = docker_cli(daemon.host, "version", "--format", "{{json .Server}}", timeout=30)
    assert r.returncode == 0, r.stderr
    server = json.loads(r.stdout)
    assert (server["ApiVersion"], server["Components"][0]["Name"]) \
        == (daemon.api, daemon.component)

