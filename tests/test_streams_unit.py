"""db.streams without a proxy: error messages inside JSON-message streams, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockdrift.db import streams
from dockdrift.db.record import build_row
from dockdrift.db.streams import MAX_LINE, MessageScanner, exit_status, outcome_kind

ERR = (b'{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c exit 3\' returned a '
       b'non-zero code: 3"},"error":"The command \'/bin/sh -c exit 3\' returned a non-zero '
       b'code: 3"}\r\n')
STREAM = (b'{"stream":"Step 1/2 : FROM busybox:local\\n"}\r\n{"stream":" ---\\u003e 1a2b\\n"}\r\n'
          b'{"stream":"Step 2/2 : RUN exit 3\\n"}\r\n' + ERR)


def scan(*chunks: bytes) -> MessageScanner:
    s = MessageScanner()
    for c in chunks:
        assert s(c) is c  # the body passes unchanged
    s(b"")  # mitmproxy's end of body
    s.finish()  # the recorder's, when the exchange is recorded
    return s


def test_a_failed_build_stream_gives_its_first_error_and_count() -> None:
    s = scan(STREAM)
    assert s.count == 1 and s.n == len(STREAM)
    assert s.first == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"


def test_split_at_every_byte_offset() -> None:
    body = STREAM + b'{"status":"x"}\n' + ERR.replace(b"exit 3", b"exit 4")
    want = scan(body)
    assert want.count == 2
    for i in range(len(body) + 1):
        s = scan(body[:i], body[i:])
        assert (s.count, s.first, s.n) == (want.count, want.first, len(body)), i
    for i in range(0, len(body), 7):  # and three pieces
        for j in range(i, len(body), 13):
            s = scan(body[:i], body[i:j], body[j:])
            assert (s.count, s.first) == (want.count, want.first), (i, j)


def test_one_byte_chunks_and_many_messages_per_chunk() -> None:
    body = (b'{"status":"ok"}\n' * 50 + ERR) * 3
    s = scan(*(body[i:i + 1] for i in range(len(body))))
    assert s.count == 3
    assert scan(body).count == 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b'{"status":"Downloading","id":"a"}\r\n', ERR,
                                 b'{"stream":"error: not a key \\"error\\": no"}\n',
                                 b'{"error":"pull access denied for x"}\n',
                                 b'{"aux":{"ID":"sha256:1"}}\n']), max_size=30),
       st.lists(st.integers(0, 400), max_size=8))
def test_any_chunking_gives_the_same_answer(msgs: list[bytes], cuts: list[int]) -> None:
    body = b"".join(msgs)
    bounds = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    pieces = [body[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    whole = scan(body)
    assert whole.count == sum(m in (ERR, b'{"error":"pull access denied for x"}\n') for m in msgs)
    s = scan(*pieces)
    assert (s.count, s.first) == (whole.count, whole.first)


def test_a_huge_message_is_skipped_not_buffered() -> None:
    huge = b'{"stream":"' + b"x" * (10 * MAX_LINE) + b'"}\n'
    s = MessageScanner()
    for i in range(0, len(huge), 1000):
        s(huge[i:i + 1000])
        assert len(s._tail) <= MAX_LINE
    s(ERR)
    s.finish()
    assert s.count == 1  # the stream goes on being read after the skipped message
    huge_error = b'{"error":"' + b"e" * (2 * MAX_LINE) + b'"}\n'
    assert scan(huge_error).count == 0  # too long to hold: skipped, never buffered
    assert scan(huge_error[:100], huge_error[100:] + ERR).count == 1


def test_a_last_message_without_newline_and_broken_json() -> None:
    assert scan(b'{"status":"a"}\n{"error":"no newline"}').first == "no newline"
    assert scan(b'{"error":"cut here \\"q\\"').first == 'cut here "q"'
    assert scan(b'{"error":"a"}{"error":"b"}\n').count == 2  # concatenated on one line
    assert scan(b'{"error":""}\n{"error":null}\n[1]\n"error"\n').count == 0


def test_podman_style_messages() -> None:
    s = scan(b'{"stream":"Trying to pull 127.0.0.1:1/x...\\n"}\n',
             b'{"error":"initializing source docker://127.0.0.1:1/x:latest: pinging container '
             b'registry 127.0.0.1:1: connection refused"}\n')
    assert s.count == 1 and s.first.startswith("initializing source")
    assert scan(b'{"errorDetail":{"message":"only detail"}}\n').first == "only detail"


@pytest.mark.parametrize(("method", "path", "kind"), [
    ("POST", "/v1.41/build?t=x", "messages"),
    ("POST", "/build", "messages"),
    ("POST", "/v1.41/images/create?fromImage=busybox&tag=1", "messages"),
    ("POST", "/v1.41/images/127.0.0.1:1/x:latest/push", "messages"),
    ("POST", "/v1.41/images/load?quiet=1", "messages"),
    ("POST", "/v1.41/plugins/pull?remote=x", "messages"),
    ("POST", "/v1.41/plugins/x/upgrade", "messages"),
    ("POST", "/v1.41/plugins/x:latest/push", "messages"),
    ("POST", "/v1.41/containers/abc/wait?condition=next-exit", "wait"),
    ("GET", "/v1.41/exec/0123/json", "exec"),
    ("GET", "/v1.41/containers/json", None),
    ("GET", "/v1.41/containers/abc/json", None),
    ("GET", "/_ping", None),
    ("GET", "/v1.41/build", None),  # wrong method
    ("POST", "/v1.41/containers/create", None),
    ("POST", "/v1.41/images/x/tag", None),
])
def test_outcome_kind_by_route(method: str, path: str, kind: str | None) -> None:
    assert outcome_kind(method, path) == kind


def test_libpod_templates_are_known_by_shape() -> None:
    assert streams.kind_of_route("POST", "/libpod/images/{name}/push") == "messages"
    assert streams.kind_of_route("POST", "/libpod/images/{name:.*}/push") == "messages"
    assert streams.kind_of_route("POST", "/libpod/build") == "messages"
    assert streams.kind_of_route("POST", "/libpod/containers/{name}/wait") == "libpod-wait"
    assert streams.kind_of_route("POST", "/containers/{name}/wait") == "wait"
    assert streams.kind_of_route("GET", "/libpod/exec/{id}/json") == "exec"
    assert streams.kind_of_route("POST", None) is None


def test_exit_statuses() -> None:
    assert exit_status("wait", b'{"Error":null,"StatusCode":137}\n') == (137, None)
    assert exit_status("wait", b'{"StatusCode":-1,"Error":{"Message":"no such container"}}') \
        == (-1, "no such container")
    assert exit_status("libpod-wait", b"3\n") == (3, None)
    assert exit_status("libpod-wait", b"what") == (None, None)
    inspect = json.dumps({"ID": "x", "Running": False, "ExitCode": 2, "Pid": 0,
                          "ProcessConfig": {"arguments": ["-c", "exit 2"]}}).encode()
    assert exit_status("exec", inspect) == (2, None)
    running = inspect.replace(b'"Running": false', b'"Running": true')
    assert exit_status("exec", running) == (None, None)
    cut = inspect[:-5]  # cut off: found by pattern
    assert exit_status("exec", cut) == (2, None)
    assert exit_status("wait", b'{"StatusCode":3,"Error":{"Message":"x') == (3, "x")
    assert exit_status("wait", b"") == (None, None)


def test_stream_errors_are_stored_redacted_capped_and_never_for_credential_routes() -> None:
    text = ('Get "https://bob:hunter2@127.0.0.1:1/v2/": token?account=bob&scope=repo failed '
            'with SECRET=hunter2 ' + "x" * 300)
    row = build_row(method="POST", raw_target=b"/v1.41/images/create?fromImage=x", started=1.0,
                    ended=2.0, status_code=200, stream_error_text=text, stream_error_count=2)
    assert row["stream_error_count"] == 2
    assert "hunter2" not in row["stream_error"] and "bob" not in row["stream_error"]
    assert row["stream_error"].startswith('Get "https://REDACTED@127.0.0.1:1/v2/"')
    assert len(row["stream_error"]) == 200
    row = build_row(method="POST", raw_target=b"/v1.41/plugins/pull?remote=x", started=1.0,
                    ended=2.0, status_code=200, stream_error_text="denied for bob",
                    stream_error_count=1)
    assert row["stream_error"] is None and row["stream_error_count"] == 1
    row = build_row(method="POST", raw_target=b"/v1.41/containers/c/wait", started=1.0,
                    ended=2.0, status_code=200, exit_code=3)
    assert (row["exit_code"], row["stream_error"], row["stream_error_count"]) == (3, None, None)


def test_the_addon_scans_only_2xx_stream_routes_and_reads_exit_statuses(tmp_path: Path) -> None:
    """The addon's hooks with tflows: which stream callable each answer gets, what is stored."""
    from mitmproxy.test import taddons
    from test_addon_unit import drive, flow, load_addon, rows

    db = tmp_path / "u.sqlite"
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_target="engine")
        drive(rec, flow("POST", b"/v1.41/build?t=x", 200), STREAM)
        drive(rec, flow("POST", b"/v1.41/build", 500), b'{"message":"boom"}')
        drive(rec, flow("POST", b"/v1.41/containers/c/wait", 200), b'{"StatusCode":137}')
        drive(rec, flow("GET", b"/v1.41/exec/e/json", 200), b'{"Running":false,"ExitCode":5}')
        drive(rec, flow("GET", b"/v1.41/containers/json", 200), ERR)  # not a stream route
        rec.writer.flush()
        rec.done()
    got = [(r["route"], r["status_code"], r["stream_error"], r["stream_error_count"],
            r["exit_code"], r["error_message"]) for r in rows(db)]
    assert got == [
        ("/build", 200, "The command '/bin/sh -c exit 3' returned a non-zero code: 3", 1, None,
         None),
        ("/build", 500, None, None, None, "boom"),
        ("/containers/{name:.*}/wait", 200, None, 0, 137, None),
        ("/exec/{execid:.*}/json", 200, None, None, 5, None),
        ("/containers/json", 200, None, None, None, None),
    ]
