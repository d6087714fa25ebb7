"""Today's servers through `dockdrift probe`: Engine 28.5, the same Engine in Engine 29.0's floor
mode (DOCKER_MIN_API_VERSION=1.44), Podman 5.8; where they differ from the generation before
(measured here on 2026-12-03, `make matrix`), and the floor as its own implementation.

Servers: scripts/dockerd28-up.sh [--floor], scripts/podman5-up.sh (DOCKDRIFT_ENGINE28_TCP,
DOCKDRIFT_ENGINE28FLOOR_TCP, DOCKDRIFT_PODMAN5_TCP); with CI=true a missing one fails.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request

from conftest import implementation_host
from probe_helpers import DOCKDRIFT, names, prefix_of, rows, run_probe, with_prefix

REFUSED = ("client version 1.41 is too old. Minimum supported API version is 1.44, please "
           "upgrade your client to a newer version")


def _version(host: str) -> dict:
    with urllib.request.urlopen(host.replace("tcp://", "http://") + "/version", timeout=10) as r:
        return json.load(r)


def _codes(host: str, db, cases: list[str]) -> dict[str, int | None]:
    code, err = run_probe(host, db, "--case", *cases)
    assert code == 0, err[-3000:]
    assert with_prefix(names(host), prefix_of(err)) == []
    return dict(rows(db, "SELECT probe_case, status_code FROM exchanges WHERE probe_case IN "
                         f"({','.join('?' * len(cases))})", *cases))


def test_floor_mode_is_its_own_implementation_and_refuses_old_clients(tmp_path):
    plain, floor = implementation_host("engine28"), implementation_host("engine28floor")
    version = _version(floor)
    assert version["MinAPIVersion"] == "1.44" and _version(plain)["MinAPIVersion"] == "1.24"
    db = tmp_path / "floor.sqlite"
    cases = ["version", "version@1.41", "ping@1.24", "start-with-body@1.41"]
    assert _codes(plain, db, cases) == {"version": 200, "version@1.41": 200, "ping@1.24": 200,
                                        "start-with-body@1.41": 400}
    stored = rows(db, "SELECT DISTINCT min_api_version FROM exchanges")
    assert stored == [("1.24",)]
    code, err = run_probe(floor, db, "--case", *cases)
    assert code == 0 and "minimum 1.44" in err, err[-2000:]
    refused = dict(rows(db, "SELECT probe_case, error_message FROM exchanges WHERE "
                            "min_api_version = '1.44' AND status_code = 400"))
    assert refused["version@1.41"] == REFUSED
    assert refused["ping@1.24"] == REFUSED.replace("1.41", "1.24")
    assert refused["start-with-body@1.41"] == REFUSED  # the floor answers before the handler
    label = f"engine {version['Version']} (min API 1.44)"
    r = subprocess.run([DOCKDRIFT, "matrix", "--db", str(db), "--format", "json"],
                       capture_output=True, timeout=120)
    assert r.returncode == 1, r.stderr.decode()[-2000:]
    data = json.loads(r.stdout)
    assert data["implementations"] == [f"engine {version['Version']}", label]
    by_case = {row["case"]: row for row in data["rows"]}
    assert by_case["version@1.41"]["observed"][label] == {"400": 1}
    assert by_case["version"]["verdict"] == "agree"  # at the daemon's own version: no floor
    assert by_case["start-with-body@1.41"]["verdict"] == "agree"  # 400 both, other reasons
    r = subprocess.run([DOCKDRIFT, "matrix", "--db", str(db), "--format", "json",
                        "--implementation", label], capture_output=True, timeout=120)
    assert r.returncode == 3 and json.loads(r.stdout)["implementations"] == [label]


def test_engine28_differs_from_26_where_measured(tmp_path):
    host = implementation_host("engine28")
    expected = {  # Engine 26.1 answers 500; the rest as Engine 26.1 (make matrix, 2026-12-03)
        "archive-put-read-only": 400,
        "create-healthcheck-start-interval": 400,  # StartInterval < 1 ms, checked from 1.44
        "create-healthcheck-start-interval@1.41": 201,
        "create-mac-address@1.41": 400,  # "conflicting options: mac-address and the network mode"
        "create-mac-address": 201,
    }
    assert _codes(host, tmp_path / "e28.sqlite", list(expected)) == expected


def test_podman5_differs_from_4_3_where_measured(tmp_path):
    host = implementation_host("podman5")
    expected = {  # Podman 4.3.1 answers 404, 500, 500, 200, 200
        "update": 200,                   # the compat update route is new in 5.x
        "kill-stopped": 409,
        "network-create-existing": 409,
        "top-stopped": 500,
        "images-create-unreachable": 500,
    }
    assert _codes(host, tmp_path / "p5.sqlite", list(expected)) == expected
