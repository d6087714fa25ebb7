"""The extractor pipeline (db.extract) and the recorder's hand-over to the writer process."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from mitmproxy.test import taddons

from dockdrift.db.exchange import RESPONSE, Body, Exchange
from dockdrift.db.extract import COLUMNS, EXTRACTORS, Context, Pipeline, register

sys.path.insert(0, str(Path(__file__).parent))
from test_addon_unit import drive, flow, load_addon, rows  # noqa: E402


def _exchange(key: int, response: tuple = (Body(), b"", False), **kw) -> Exchange:
    base = dict(seq=1, key=key, method="GET", raw_target=b"/v1.41/containers/json?all=1",
                started=1.0, ended=1.5, status=200, error=None, request_bytes=0,
                response_bytes=10, user_agent="Docker-Client/28.2.2 (linux)",
                server="Docker/26.1.5 (linux)", client="127.0.0.1", probe_case=None,
                recorder="r", denied=False, response=response)
    return Exchange(**(base | kw))


def test_every_row_has_every_column_and_the_shapes() -> None:
    p = Pipeline()
    body = Body(200, json=True)
    p.feed(7, RESPONSE, body, b'[{"Id":"abc","Labels":{"secret.key":"v"}}')
    row = p.finish(_exchange(7, (body, b"]\n", False)))
    assert set(row) == set(COLUMNS)
    assert (row["route"], row["api_version"], row["query"]) == ("/containers/json", "1.41", "all=1")
    assert row["target"] == "engine" and row["target_version"] == "26.1.5"
    assert row["request_shape"] is None and len(row["response_shape"]) == 64
    (shape,) = p.ctx.shapes.take().values()
    assert json.loads(shape.to_json()) == {".": ["array"], "[]": ["object"], "[].Id": ["string"],
                                           "[].Labels": ["object"], "[].Labels.*": ["string"]}
    assert p.flows == {}  # the flow's state is gone with its record


def test_a_lost_body_part_marks_the_shape_truncated() -> None:
    p = Pipeline()
    body = Body(200, json=True, stream=True)
    row = p.finish(_exchange(1, (body, b'{"a":1}\n', True)))
    (shape,) = p.ctx.shapes.take().values()
    assert row["response_shape"] == shape.hash and shape.truncated and shape.stream


def test_shapes_off_derives_none() -> None:
    p = Pipeline(Context(shapes_on=False))
    row = p.finish(_exchange(1, (Body(200, json=True), b'{"a":1}', False)))
    assert row["response_shape"] is None and p.ctx.shapes.take() == {}


class _UserAgentFamily:
    """An extractor as another module would add one: a column from the record and a fact."""

    name = "ua-family-test"
    columns = ("client_name", "peer_pid")

    def __init__(self, ctx: Context) -> None:
        pass

    def finish(self, ex: Exchange, row: dict) -> dict:
        ua = ex.user_agent or ""
        return {"client_name": ua.split("/")[0] or None,
                "peer_pid": (ex.facts or {}).get("pid")}


def test_an_extractor_is_one_class_plugged_in() -> None:
    register(_UserAgentFamily)
    try:
        with pytest.raises(ValueError):
            register(_UserAgentFamily)
        row = Pipeline().finish(_exchange(1, facts={"pid": 42}))
        assert (row["client_name"], row["peer_pid"]) == ("Docker-Client", 42)
    finally:
        EXTRACTORS.remove(_UserAgentFamily)


def test_the_recorder_stores_request_and_response_shapes(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    rec = load_addon()
    secret = "s3cr3t-value-4242"
    create = json.dumps({"Image": "busybox", "Env": [f"TOKEN={secret}"],
                         "Labels": {f"label-{secret}": secret}}).encode()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_target="engine")
        f = flow("POST", b"/v1.41/containers/create", 201,
                 headers=[("Content-Type", "application/json")])
        f.response.headers["Content-Type"] = "application/json"
        rec.requestheaders(f)
        f.request.stream(create)
        rec.responseheaders(f)
        f.response.stream(b'{"Id":"' + b"f" * 64 + b'","Warnings":[]}\n')
        rec.response(f)
        drive(rec, flow("GET", b"/_ping", 200), b"OK")
        assert rec.writer.flush()
        rec.done()
    got = rows(db)
    assert got[0]["request_shape"] and got[0]["response_shape"] and got[1]["response_shape"] is None
    con = sqlite3.connect(db)
    shapes = dict(con.execute("SELECT shape_hash, shape FROM shapes").fetchall())
    assert json.loads(shapes[got[0]["request_shape"]]) == {
        ".": ["object"], ".Env": ["array"], ".Env[]": ["string"], ".Image": ["string"],
        ".Labels": ["object"], ".Labels.*": ["string"]}
    assert ".Warnings" in json.loads(shapes[got[0]["response_shape"]])
    assert secret.encode() not in db.read_bytes() and b"f" * 64 not in db.read_bytes()
    # the session's bookkeeping key is gone after a clean stop
    assert con.execute("SELECT count(*) FROM dockdrift_meta WHERE key LIKE 'writer:%'"
                       ).fetchone()[0] == 0
