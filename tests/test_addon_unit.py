"""The addon's hooks fed with mitmproxy's test flows (no proxy, no Docker), like test_save.py."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons, tflow, tutils

ADDON = Path(__file__).resolve().parents[1] / "addons" / "docker_recorder.py"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the addon opens the default ./dockdrift.sqlite: keep it out of the checkout."""
    monkeypatch.chdir(tmp_path)


def load_addon():
    spec = importlib.util.spec_from_file_location("docker_recorder_under_test", ADDON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DockerRecorder()


def flow(method: str, path: bytes, status: int | None, body: bytes = b"", headers=()):
    f = tflow.tflow(req=tutils.treq(method=method.encode(), path=path, content=b""), resp=False)
    for k, v in headers:
        f.request.headers[k] = v
    if status is not None:
        f.response = tutils.tresp(status_code=status, content=b"")
        f.response.headers["Server"] = "Docker/20.10.24 (linux)"
        f.response.content = body
    return f


def drive(rec, f, body: bytes = b"") -> None:
    rec.requestheaders(f)
    if f.response is not None:
        rec.responseheaders(f)
        f.response.stream(body)  # the stream callable sees the body as it passes
        rec.response(f)


def rows(db: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    return con.execute("select * from exchanges order by id").fetchall()


def test_records_route_handler_status_and_bytes(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_target="engine")
        drive(rec, flow("POST", b"/v1.41/containers/web/start?x=1", 204))
        body = b'{"message":"No such container: nope"}'
        drive(rec, flow("GET", b"/v1.41/containers/nope/json", 404, body), body)
        drive(rec, flow("GET", b"/no/such/route", 404, b"page not found"), b"page not found")
        rec.writer.flush()
        rec.done()
    got = rows(db)
    assert [(r["method"], r["route"], r["handler"], r["status_code"]) for r in got] == [
        ("POST", "/containers/{name:.*}/start", "postContainersStart", 204),
        ("GET", "/containers/{name:.*}/json", "getContainerJSON", 404),
        ("GET", None, None, 404),
    ]
    assert got[0]["query"] == "x=1" and got[0]["api_version"] == "1.41"
    assert got[0]["path"] == "/v1.41/containers/web/start"
    assert got[1]["error_message"] == "No such container: nope"
    assert got[1]["response_bytes"] == len(body)
    assert {r["target"] for r in got} == {"engine"}


def test_failure_on_the_proxy_side_has_no_status(tmp_path: Path) -> None:
    db = tmp_path / "b.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        f = flow("GET", b"/v1.41/info", None)
        rec.requestheaders(f)
        f.error = tflow.terr("Connection refused")
        rec.error(f)
        rec.done()
    (row,) = rows(db)
    assert row["status_code"] is None and "refused" in row["error"]


def test_in_flight_exchanges_are_stored_on_done(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        f = flow("GET", b"/v1.41/events", 200)
        rec.requestheaders(f)
        rec.responseheaders(f)  # a stream that never ends before shutdown
        rec.done()
        rec.done()  # safe twice
    (row,) = rows(db)
    assert row["status_code"] == 200 and row["error"].startswith("proxy stopped")


def test_secret_headers_and_bodies_are_not_stored(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    rec = load_addon()
    secret = "hunter2-very-secret"
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        f = flow("POST", b"/v1.41/auth", 401, headers=[("X-Registry-Auth", secret),
                                                      ("Authorization", secret)])
        f.request.content = ('{"password":"%s"}' % secret).encode()
        body = ('{"message":"bad password %s"}' % secret).encode()
        drive(rec, f, body)
        rec.done()
    assert secret.encode() not in db.read_bytes()
    (row,) = rows(db)
    assert row["status_code"] == 401 and row["error_message"] is None


def test_bad_options_are_one_clear_error(tmp_path: Path) -> None:
    rec = load_addon()
    with taddons.context(rec) as tctx:
        with pytest.raises(exceptions.OptionsError, match="dockdrift_target"):
            tctx.configure(rec, dockdrift_target="bogus")
        with pytest.raises(exceptions.OptionsError, match="dockdrift_db"):
            tctx.configure(rec, dockdrift_db=str(tmp_path / "missing-dir" / "x.sqlite"))


def test_swarm_detected_from_version_answer(tmp_path: Path) -> None:
    db = tmp_path / "e.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        body = b'{"Version":"swarm/1.2.9","ApiVersion":"1.22"}'
        f = flow("GET", b"/v1.22/version", 200, body)
        del f.response.headers["Server"]  # Swarm's own answers carry no Server header
        drive(rec, f, body)
        drive(rec, flow("GET", b"/v1.22/containers/json", 200))  # proxied: engine's header
        rec.done()
    # The /version answer itself already says swarm; the proxied answer's engine Server
    # header must not flip it back.
    assert [r["target"] for r in rows(db)] == ["swarm", "swarm"]
    assert rows(db)[0]["server"] == "swarm/1.2.9"


def test_probe_case_header_is_stored_and_never_sent_upstream(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_recorder="ci-runner-7")
        f = flow("GET", b"/v1.41/containers/nope/json", 404,
                 headers=[("X-Dockdrift-Probe-Case", "inspect-missing-container")])
        drive(rec, f)
        assert "x-dockdrift-probe-case" not in f.request.headers  # the daemon never sees it
        drive(rec, flow("GET", b"/_ping", 200))
        rec.writer.flush()
        got = [(r["probe_case"], r["recorder"]) for r in rows(db)]
        rec.done()
    assert got == [("inspect-missing-container", "ci-runner-7"), (None, "ci-runner-7")]


def test_target_version_from_the_server_header_and_from_version(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        f = flow("GET", b"/v1.41/containers/json", 200)
        f.response.headers["Server"] = "Libpod/4.3.1 (linux)"
        drive(rec, f)
        body = (b'{"Platform":{"Name":"linux/amd64/debian-12"},"Components":[{"Name":'
                b'"Podman Engine","Version":"4.3.1"}],"Version":"4.3.1","ApiVersion":"1.41"}')
        f = flow("GET", b"/version", 200, body)
        f.response.headers["Server"] = "Libpod/4.3.1 (linux)"
        drive(rec, f, body)
        drive(rec, flow("GET", b"/_ping", 200))  # a Docker/ header no longer says engine
        rec.writer.flush()
        got = [(r["target"], r["target_version"]) for r in rows(db)]
        rec.done()
    assert got == [("podman", "4.3.1")] * 3


def test_a_real_sized_version_body_is_read_whole(tmp_path: Path) -> None:
    """Real /version answers are 0.8-3 KB: the identity must not depend on the first 512."""
    db = tmp_path / "big.sqlite"
    rec = load_addon()
    comps = [{"Name": f"component-{i}", "Version": "1.0", "Details": {"x": "y" * 40}}
             for i in range(12)] + [{"Name": "Podman Engine", "Version": "4.3.1"}]
    import json

    body = json.dumps({"Components": comps, "Version": "4.3.1", "ApiVersion": "1.41"}).encode()
    assert len(body) > 1024
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db))
        f = flow("GET", b"/v1.41/version", 200, body)
        del f.response.headers["Server"]
        drive(rec, f, body)
        rec.writer.flush()
        got = [(r["target"], r["target_version"]) for r in rows(db)]
        rec.done()
    assert got == [("podman", "4.3.1")]
