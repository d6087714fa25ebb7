"""The matrix of real answers: the same docker CLI commands recorded through the recorder
against Engine 20.10 (always), Engine 26.1 (tcp://127.0.0.1:2385) and Podman 4.3.1
(tcp://127.0.0.1:2395), one after the other into ONE store. Each command is a probe case: the
docker CLI sends `X-Dockdrift-Probe-Case` from its config's HttpHeaders, the recorder takes it
off and stores it as `probe_case`.

What the servers answer (measured here):
- `docker inspect dd-matrix-missing`: 404 from every implementation for the container, image,
  network and volume lookups -> those rows agree at 404.
- `docker create --name "dd matrix bad"`: the Engines refuse the name with 400, Podman 4.3.1
  with 500 -> that row differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import IMPLEMENTATIONS, docker_cli, need, start_recorder

from dockdrift.cli import main

pytestmark = pytest.mark.docker
ENGINE26 = IMPLEMENTATIONS["engine26"].host  # conftest: one registry of servers
PODMAN = IMPLEMENTATIONS["podman"].host
CASES = [("inspect-missing", ("inspect", "dd-matrix-missing")),
         ("create-bad-name", ("create", "--name", "dd matrix bad", "busybox:local"))]
INSPECT = ("inspect-missing", "GET", "/containers/{name:.*}/json")
BAD_NAME = ("create-bad-name", "POST", "/containers/create")


def answers(host: str) -> bool:
    r = docker_cli(host, "image", "inspect", "--format", "{{.Id}}", "busybox:local", timeout=30)
    return r.returncode == 0


def case_config(root: Path, case: str) -> str:
    """A DOCKER_CONFIG whose HttpHeaders name the probe case on every request."""
    d = root / f"config-{case}"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps({"HttpHeaders": {"X-Dockdrift-Probe-Case": case}}))
    return str(d)


def record(db: Path, upstream: str, root: Path) -> None:
    rec = start_recorder(db, upstream)
    try:
        for case, args in CASES:
            r = docker_cli(rec.host, *args, env={"DOCKER_CONFIG": case_config(root, case)})
            assert r.returncode == 1, r.stderr  # each command fails, by design
    finally:
        assert rec.stop() == 0, rec.log.read_text(errors="replace")[-2000:]


@pytest.fixture(scope="module")
def store(docker_host, tmp_path_factory) -> tuple[Path, dict[str, bool]]:
    root = tmp_path_factory.mktemp("matrix-e2e")
    db = root / "matrix.sqlite"
    up = {"engine26": answers(ENGINE26), "podman": answers(PODMAN)}
    for upstream, ok in ((docker_host, True), (ENGINE26, up["engine26"]),
                         (PODMAN, up["podman"])):
        if ok:
            record(db, upstream, root)
    return db, up


def matrix(capsys, db: Path) -> tuple[int, dict]:
    code = main(["matrix", "--db", str(db), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def rows(data: dict) -> dict[tuple, dict]:
    return {(r["case"], r["method"], r["route"]): r for r in data["rows"]}


def test_missing_container_agrees_at_404(capsys, store):
    db, up = store
    need(up["engine26"], f"no Engine 26.1 with busybox:local at {ENGINE26} "
         "(scripts/dockerd26-up.sh)")
    need(up["podman"], f"no Podman with busybox:local at {PODMAN} (scripts/podman-up.sh)")
    code, data = matrix(capsys, db)
    labels = data["implementations"]
    assert {"engine 20.10.24+dfsg1", "engine 26.1.5+dfsg1", "podman 4.3.1"} <= set(labels)
    inspect = rows(data)[INSPECT]
    assert inspect["agree"] and inspect["seen_by"] == 3
    assert all(codes == {"404": 1} for codes in inspect["observed"].values())
    assert code == 1  # the bad name differs (next test says how)


def test_bad_container_name_differs_podman_500(capsys, store):
    db, up = store
    need(up["podman"], f"no Podman with busybox:local at {PODMAN} (scripts/podman-up.sh)")
    _, data = matrix(capsys, db)
    bad = rows(data)[BAD_NAME]
    assert not bad["agree"] and bad["differences"] == ["codes"]
    assert bad["observed"]["podman 4.3.1"] == {"500": 1}
    assert bad["observed"]["engine 20.10.24+dfsg1"] == {"400": 1}
    if up["engine26"]:
        assert bad["observed"]["engine 26.1.5+dfsg1"] == {"400": 1}
