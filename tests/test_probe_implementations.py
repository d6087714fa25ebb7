"""`dockdrift probe` against Engine 26.1 and Podman 4.3: the same cases, other answers.

Each test runs the cases where that implementation differs from Engine 20.10 (measured here on
2026-12-01) and checks the store holds its own answers, and that nothing of the run is left.
The servers come from scripts/dockerd26-up.sh and scripts/podman-up.sh
(DOCKDRIFT_ENGINE26_TCP, DOCKDRIFT_PODMAN_TCP); with CI=true a missing one fails.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from conftest import IMAGE, IMPLEMENTATIONS, need
from probe_helpers import names, prefix_of, rows, run_probe, with_prefix


def _server(name: str) -> str:
    impl = IMPLEMENTATIONS[name]
    host, var, what = impl.host, impl.env, impl.label
    base = host.replace("tcp://", "http://")
    try:
        with urllib.request.urlopen(f"{base}/images/{IMAGE}/json", timeout=10) as resp:
            json.load(resp)
        ok, why = True, ""
    except (OSError, ValueError) as exc:
        ok, why = False, str(exc)
    need(ok, f"no {what} with {IMAGE} at {host} ({var}): {why}")
    return host


@pytest.fixture(scope="module")
def engine26() -> str:
    return _server("engine26")


@pytest.fixture(scope="module")
def podman() -> str:
    return _server("podman")


def probe_codes(host: str, tmp_path, expected: dict[str, int]) -> dict[str, int | None]:
    db = tmp_path / "probe.sqlite"
    code, err = run_probe(host, db, "--case", *expected)
    assert code == 0, err[-3000:]
    assert with_prefix(names(host), prefix_of(err)) == []
    return dict(rows(db, "SELECT probe_case, status_code FROM exchanges "
                         "WHERE probe_case NOT LIKE '%#setup'"))


def test_engine26_differs_from_20_10_where_measured(engine26, tmp_path):
    expected = {  # Engine 20.10 answers: 200, 500, 500, 200, 200, 500
        "api-version-old": 400,   # minimum API 1.24 now
        "bad-filter-json": 400,   # a bad filter is the client's error now
        "create-bad-json": 400,
        "copy": 404,              # POST /containers/{id}/copy is gone
        "wait-bad-condition": 400,
        "images-search-unreachable": 400,
    }
    assert probe_codes(engine26, tmp_path, expected) == expected


def test_podman_differs_from_the_engine_where_measured(podman, tmp_path):
    expected = {  # Engine 20.10 answers: 404, 304, 409, 409, 200, 101
        "containers-ps": 405,     # a wrong method: 405 (the Engine: 404)
        "stop-stopped-container": 204,
        "create-name-conflict": 500,
        "kill-stopped": 500,
        "update": 404,            # no /containers/{id}/update in Podman 4.3's compat API
        "attach-ws": 404,         # no websocket attach
    }
    assert probe_codes(podman, tmp_path, expected) == expected
