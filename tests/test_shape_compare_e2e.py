"""`dockdrift shapes` on real servers: probe cases recorded through the recorder (which derives
the body shapes) against Engine 20.10, Engine 28.5, Podman 4.3 and Podman 5.8, then compared.

The differences asserted were measured here (2026-12-03): Podman answers a missing container
with `cause` and `response` beside `message`; Podman's `/containers/json` items have no
`HostConfig`; Podman's /version components carry `Details.APIVersion` where the Engine writes
`Details.ApiVersion`; Engine 28.5 adds `GwPriority` to each network of a container.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from conftest import implementation_host, need
from dockdrift.cli import main
from probe_helpers import prefix_of, run_probe

CASES = ["version", "containers-list", "inspect-container", "inspect-missing-container"]
SERVERS = {"engine20": "engine 20.10", "engine28": "engine 28.5", "podman": "podman 4.3",
           "podman5": "podman 5.8"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    db = tmp_path_factory.mktemp("shapes-e2e") / "probe.sqlite"
    prefixes = []
    for name in SERVERS:
        code, err = run_probe(implementation_host(name), db, "--case", *CASES)
        assert code == 0, err[-3000:]
        prefixes.append(prefix_of(err))
    with sqlite3.connect(db) as conn:
        shaped = conn.execute("SELECT COUNT(*) FROM exchanges WHERE response_shape IS NOT NULL")
        need(shaped.fetchone()[0] > 0, "the recorder stored no body shapes (recorder branch)")
    return db, prefixes


def _label(labels: list[str], prefix: str) -> str:
    return next(lbl for lbl in labels if lbl.startswith(prefix))


def test_real_field_differences(store: tuple[Path, list[str]], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    db, prefixes = store
    out = tmp_path / "shapes.json"
    assert main(["shapes", "--db", str(db), "--format", "json", "-o", str(out)]) == 1
    text = out.read_text()
    assert not any(p in text for p in prefixes)  # no container name (a value) in the output
    data = json.loads(text)
    labels = data["implementations"]
    e20, e28, p4, p5 = (_label(labels, v) for v in SERVERS.values())
    rows = {(r["route"], r["status"], r["field"]): r for r in data["rows"]}
    cause = rows[("/containers/{name:.*}/json", 404, ".cause")]
    assert cause["observed"][p4] == cause["observed"][p5] == ["string"]
    assert cause["observed"][e20] == cause["observed"][e28] == [] and not cause["agree"]
    host = rows[("/containers/json", 200, "[].HostConfig")]
    assert host["observed"][e20] == ["object"] and host["observed"][p4] == []
    assert host["documented"][p4] == ["object"]  # Docker's 1.41 schema for Podman's compat API
    api = rows[("/version", 200, ".Components[].Details.APIVersion")]
    assert api["observed"][p4] == ["string"] and api["observed"][e20] == []
    gw = rows[("/containers/{name:.*}/json", 200, ".NetworkSettings.Networks.*.GwPriority")]
    assert gw["observed"][e28] == ["integer"] and gw["observed"][e20] == []
    found = {(f["implementation"], f["kind"], f["field"]) for f in data["findings"]}
    assert (p4, "undocumented", ".cause") in found
    assert (p5, "undocumented", ".response") in found
    # matrix: the same case differs on shapes, and names the fields
    assert main(["matrix", "--db", str(db), "--format", "json"]) == 1
    matrix = json.loads(capsys.readouterr().out)
    missing = next(r for r in matrix["rows"] if r["case"] == "inspect-missing-container")
    assert "shapes" in missing["differences"]
    assert "404 .cause" in missing["shape_differences"]
    # HTML renders
    page = tmp_path / "shapes.html"
    assert main(["shapes", "--db", str(db), "--format", "html", "-o", str(page)]) == 1
    assert "[].HostConfig" in page.read_text()
