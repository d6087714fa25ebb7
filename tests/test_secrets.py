"""No secret that passes the recorder may land on disk: not in the database, not in its WAL.

Real requests carrying a secret (registry auth headers, Authorization, POST /auth, container
Env, POST /secrets/create, build args) go through the recorder to the real dockerd; then the
raw bytes of the store's files are searched for the secret in every encoding it travelled in.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest
from conftest import IMAGE, docker_cli
from fault_helpers import encodings, get, query, wait_rows

pytestmark = [pytest.mark.docker]
SECRET = f"dd5Secret{secrets.token_hex(12)}"


def _b64url(doc: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def _drive(port: int, host: str, tmp_path: Path) -> int:
    """Send every kind of secret-carrying request; returns how many exchanges were made."""
    auth = {"username": "dd5user", "password": SECRET, "serveraddress": "127.0.0.1:1"}
    calls = [
        ("GET", "/v1.41/version", None, {"Authorization": f"Bearer {SECRET}"}),
        ("POST", "/v1.41/auth", json.dumps(auth).encode(), {"Content-Type": "application/json"}),
        ("POST", "/v1.41/images/create?fromImage=127.0.0.1:1/dd5/none&tag=latest", b"",
         {"X-Registry-Auth": _b64url(auth)}),
        ("POST", "/v1.41/build?t=dd5-none", b"not a tar",
         {"X-Registry-Config": _b64url({"127.0.0.1:1": auth}), "Content-Type": "application/x-tar"}),
        ("POST", "/v1.41/secrets/create", json.dumps(
            {"Name": "dd5-secret", "Data": base64.b64encode(SECRET.encode()).decode()}).encode(),
         {"Content-Type": "application/json"}),
        ("POST", "/v1.41/configs/create", json.dumps(
            {"Name": "dd5-config", "Data": base64.b64encode(SECRET.encode()).decode()}).encode(),
         {"Content-Type": "application/json"}),
        # invalid Env entries: the daemon's error text echoes them back
        ("POST", "/v1.41/containers/create", json.dumps(
            {"Image": IMAGE, "Env": [f"={SECRET}"]}).encode(), {"Content-Type": "application/json"}),
        ("POST", "/v1.41/containers/create", json.dumps(
            {"Image": IMAGE, "Env": [f"PASSWORD={SECRET}"], "HostConfig": {"Memory": -5}}).encode(),
         {"Content-Type": "application/json"}),
    ]
    statuses = [get(port, path, method, body, headers)[0] for method, path, body, headers in calls]
    assert statuses[0] == 200 and statuses[4] == 503  # the daemon really saw them
    r = docker_cli(host, "run", "--rm", "-e", f"SECRET_ENV={SECRET}", IMAGE, "sh", "-c",
                   'test -n "$SECRET_ENV"')
    assert r.returncode == 0, r.stderr
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f'FROM {IMAGE}\nARG PASSWORD\nRUN test -n "$PASSWORD"\n')
    r = docker_cli(host, "build", "--build-arg", f"PASSWORD={SECRET}", "-q", "-t", "dd5-secret-build",
                   str(ctx), env={"DOCKER_BUILDKIT": "0"})
    assert r.returncode == 0, r.stderr
    docker_cli(host, "rmi", "dd5-secret-build")
    return len(calls)


def _leaks(files: list[Path]) -> list[str]:
    found = []
    for f in files:
        if not f.exists():
            continue
        data = f.read_bytes()
        found += [f"{f.name}: {name}" for name, enc in encodings(SECRET.encode()).items()
                  if enc in data]
    return found


def test_no_secret_reaches_the_store(recorder, tmp_path: Path) -> None:
    n = _drive(recorder.port, recorder.host, tmp_path)
    db = recorder.db
    files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    assert wait_rows(db, "SELECT COUNT(*) FROM exchanges", n + 4) >= n + 4
    assert Path(f"{db}-wal").stat().st_size > 0  # before any checkpoint: rows still in the WAL
    before = _leaks(files)
    assert recorder.stop() == 0
    after = _leaks(files)  # after the checkpoint on close
    assert (before, after) == ([], [])
    # the exchanges themselves were recorded, only the secrets were not
    routes = {r for (r,) in query(db, "SELECT DISTINCT route FROM exchanges")}
    assert {"/auth", "/secrets/create", "/build", "/images/create",
            "/containers/create"} <= routes
