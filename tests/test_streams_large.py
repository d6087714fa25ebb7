"""Large streams pass the message scanner and the shaper with flat memory and unchanged bytes.

A 300 MB `docker load` (the request streamed upstream, its answer a message stream that is
scanned), and a legacy `docker build` whose RUN prints ~40 MB before failing (a response of
~200k JSON messages, every one through the scanner). Peak RSS (VmHWM) of the mitmdump process
is measured as in test_large_bodies.py, and that of the writer process, which parses every
message (its buffer is bounded per message). Figures are printed (pytest -s).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from conftest import DOCKER, IMAGE, docker_cli
from fault_helpers import proc_stats, query, wait_rows, writer_pid
from test_large_bodies import MB, _sha_through, import_random_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]
TAG = "dd-streams-large:load"


def _sha_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_300mb_load_through_the_scanner(docker_host: str, recorder, tmp_path: Path) -> None:
    import_random_image(docker_host, tmp_path, TAG, 300 * MB, timeout=600)
    saved = tmp_path / "saved.tar"
    try:
        with open(saved, "wb") as out:
            assert subprocess.run([DOCKER, "-H", docker_host, "save", TAG], stdout=out,
                                  timeout=600).returncode == 0
        want = _sha_file(saved)
        assert docker_cli(docker_host, "rmi", TAG).returncode == 0
        pid = recorder.proc.pid
        wpid = writer_pid(pid)
        start, wstart = proc_stats(pid)["hwm_kb"], proc_stats(wpid)["hwm_kb"]
        with open(saved, "rb") as body:
            loaded = subprocess.run([DOCKER, "-H", recorder.host, "load"], stdin=body,
                                    capture_output=True, timeout=600)
        assert loaded.returncode == 0, loaded.stderr
        peak, wpeak = proc_stats(pid)["hwm_kb"], proc_stats(wpid)["hwm_kb"]
        assert _sha_through(docker_host, "save", TAG) == want  # the bytes arrived unchanged
    finally:
        docker_cli(docker_host, "rmi", "-f", TAG)
    size = saved.stat().st_size
    print(f"\n300 MB load ({size // MB} MB): proxy peak RSS {start} kB -> {peak} kB, "
          f"writer {wstart} kB -> {wpeak} kB")
    assert peak - start < 32_000, "the proxy's memory grew with the body"
    assert wpeak - wstart < 32_000, "the writer's memory grew with the body"
    assert recorder.stop() == 0
    rows = query(recorder.db, "SELECT status_code, request_bytes, stream_error, "
                 "stream_error_count, request_shape FROM exchanges WHERE route = '/images/load'")
    assert rows == [(200, size, None, 0, None)]  # a tar body: not shaped
    (shape,) = query(recorder.db, "SELECT s.shape, s.stream FROM exchanges e JOIN shapes s "
                     "ON s.shape_hash = e.response_shape WHERE e.route = '/images/load'")
    assert ".stream" in json.loads(shape[0]) and shape[1] == 1


def test_build_printing_40mb_then_failing(recorder, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        "RUN head -c 40000000 /dev/zero | tr '\\0' x | fold -w 199 && exit 7\n")
    pid = recorder.proc.pid
    wpid = writer_pid(pid)
    start, wstart = proc_stats(pid)["hwm_kb"], proc_stats(wpid)["hwm_kb"]
    proc = subprocess.Popen([DOCKER, "-H", recorder.host, "build", "-t", "dd-streams-large:b",
                             str(ctx)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin"})
    lines = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        lines += line.startswith(b"xxxx")
    err = proc.stderr.read() if proc.stderr else b""
    assert proc.wait(600) != 0
    peak = proc_stats(pid)["hwm_kb"]
    wait_rows(recorder.db, "SELECT COUNT(*) FROM exchanges WHERE route = '/build'", 1)
    wpeak = proc_stats(wpid)["hwm_kb"]
    print(f"\n40 MB build output ({lines} lines): proxy peak RSS {start} kB -> {peak} kB, "
          f"writer {wstart} kB -> {wpeak} kB")
    assert lines == 40_000_000 // 199 + 1  # every line reached the client
    assert b"non-zero code: 7" in err
    assert peak - start < 32_000
    assert wpeak - wstart < 32_000, "the writer's memory grew with the stream"
    assert recorder.stop() == 0
    (shape,) = query(recorder.db, "SELECT s.shape, s.stream, s.truncated FROM exchanges e JOIN "
                     "shapes s ON s.shape_hash = e.response_shape WHERE e.route = '/build'")
    paths = json.loads(shape[0])
    assert shape[1:] == (1, 0) and paths[".stream"] == ["string"]
    assert paths[".errorDetail.message"] == ["string"] and paths[".errorDetail.code"] == ["integer"]
    rows = query(recorder.db, "SELECT status_code, stream_error, stream_error_count, "
                 "response_bytes FROM exchanges WHERE route = '/build'")
    assert len(rows) == 1 and rows[0][0] == 200 and rows[0][2] == 1, rows
    assert "non-zero code: 7" in rows[0][1] and rows[0][3] > 40_000_000
