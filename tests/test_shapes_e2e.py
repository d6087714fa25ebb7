"""Body shapes through the real recorder in front of real servers.

1. A container with a secret in `Env` and a secret-looking label is created, started,
   inspected and listed with the docker CLI through the recorder: the store's files (db,
   -wal, -shm) and the recorder's log hold neither the secret, the label's key or value, nor
   the container's id, while the shapes of those bodies are stored.
2. The same `GET /containers/{id}/json` through a recorder in front of each implementation
   gives different shapes: the fields that differ are printed (pytest -s).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from conftest import IMAGE, IMPLEMENTATIONS, docker_cli, implementation_host, start_recorder

pytestmark = [pytest.mark.docker]


def _store_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def _shapes(db: Path, route: str, method: str = "GET") -> list[dict]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT s.shape FROM exchanges e JOIN shapes s ON s.shape_hash = "
                           "e.response_shape WHERE e.route = ? AND e.method = ? AND "
                           "e.status_code = 200", (route, method)).fetchall()
    finally:
        con.close()
    return [json.loads(s) for (s,) in rows]


def _host_for_secrets() -> str:
    """Engine 28.5 when it is up, else Engine 20.10."""
    for name in ("engine28", "engine20"):
        impl = IMPLEMENTATIONS[name]
        if docker_cli(impl.host, "version", timeout=10).returncode == 0:
            return implementation_host(name)
    return implementation_host("engine20")


def test_no_secret_label_or_id_reaches_the_store_or_the_log(tmp_path: Path) -> None:
    host = _host_for_secrets()
    token = secrets.token_hex(8)
    secret, key, value = f"envsecret{token}", f"labelkey{token}", f"labelvalue{token}"
    name = f"recorder-secret-{token[:6]}"
    db = tmp_path / "secret.sqlite"
    rec = start_recorder(db, host)
    cid = ""
    try:
        created = docker_cli(rec.host, "create", "--name", name, "-e", f"TOKEN={secret}",
                             "--label", f"{key}={value}", IMAGE, "sleep", "60")
        assert created.returncode == 0, created.stderr
        cid = created.stdout.decode().strip()
        assert len(cid) == 64
        for args in (("start", name), ("inspect", name), ("ps", "-a", "--filter", f"name={name}"),
                     ("inspect", "--format", "{{.Config.Env}}", name)):
            r = docker_cli(rec.host, *args)
            assert r.returncode == 0, r.stderr
        assert secret in r.stdout.decode()  # the client got the values: they were there
    finally:
        docker_cli(rec.host, "rm", "-f", name)
        rc = rec.stop()
    assert rc == 0
    stored, log = _store_bytes(db), rec.log.read_bytes()
    for needle in (secret, key, value, cid, cid[:12]):
        assert needle.encode() not in stored, f"{needle[:10]}... reached the store"
        assert needle.encode() not in log, f"{needle[:10]}... reached the log"
    inspect = _shapes(db, "/containers/{name:.*}/json")
    assert inspect and ".Config.Labels.*" in inspect[0] and ".Config.Env[]" in inspect[0]
    con = sqlite3.connect(db)
    (req,) = con.execute("SELECT s.shape FROM exchanges e JOIN shapes s ON s.shape_hash = "
                         "e.request_shape WHERE e.route = '/containers/create'").fetchone()
    assert {".Labels.*", ".Env[]"} <= set(json.loads(req))


IMPLS = ("engine20", "engine26", "podman", "engine28", "podman5")


def _inspect_shape(impl: str, tmp_path: Path) -> dict:
    host = implementation_host(impl)
    name = f"recorder-shape-{impl}-{secrets.token_hex(3)}"
    db = tmp_path / f"{impl}.sqlite"
    rec = start_recorder(db, host)
    try:
        r = docker_cli(rec.host, "create", "--name", name, "--label", "a.b=c", IMAGE, "true")
        assert r.returncode == 0, r.stderr
        assert docker_cli(rec.host, "inspect", name).returncode == 0
    finally:
        docker_cli(rec.host, "rm", "-f", name)
        rec.stop()
    (shape,) = _shapes(db, "/containers/{name:.*}/json")[:1]
    return shape


def test_container_inspect_shapes_differ_between_implementations(tmp_path: Path) -> None:
    up = [i for i in IMPLS if i in ("engine20", "engine26", "podman") or docker_cli(
        IMPLEMENTATIONS[i].host, "version", timeout=10).returncode == 0]
    shapes = {impl: _inspect_shape(impl, tmp_path) for impl in up}
    pairs = [(a, b) for i, a in enumerate(up) for b in up[i + 1:]]
    for a, b in pairs:
        only_a, only_b = set(shapes[a]) - set(shapes[b]), set(shapes[b]) - set(shapes[a])
        retyped = {p for p in set(shapes[a]) & set(shapes[b]) if shapes[a][p] != shapes[b][p]}
        print(f"\n{a} vs {b}: {len(only_a)} fields only in {a}, {len(only_b)} only in {b}, "
              f"{len(retyped)} with other types")
        print(f"  only {a}: {sorted(only_a)[:12]}")
        print(f"  only {b}: {sorted(only_b)[:12]}")
        print(f"  types: {[(p, shapes[a][p], shapes[b][p]) for p in sorted(retyped)[:8]]}")
        assert only_a or only_b or retyped, f"{a} and {b} answered the same shape"
    # known differences, measured: Engine 26.1 dropped none of 20.10's Config but added fields;
    # Podman answers its own extra fields
    assert set(shapes["engine26"]) - set(shapes["engine20"])
    assert set(shapes["podman"]) ^ set(shapes["engine20"])
    for shape in shapes.values():  # the label's key never became a path
        assert not any("a.b" in p for p in shape)
