"""The writer process (db.sink, db.sink_worker): every exchange stored exactly once, whatever
happens to the process that writes them."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from dockdrift.db.exchange import Body
from dockdrift.db.sink import ProcessWriter, SinkError


def _fields(i: int) -> tuple:
    return (i, "GET", b"/v1.41/containers/c%d/json" % i, 1000.0 + i, 1000.5 + i, 200, None, 0,
            20, "Docker-Client/28.2.2 (linux)", "Docker/26.1.5 (linux)", "127.0.0.1", None,
            "t", False, (Body(), b"", False),
            (Body(200, json=True), b'{"Id":"x","State":{"Pid":%d}}' % i, False), None)


def _count(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM exchanges").fetchone()
    finally:
        con.close()


def test_a_killed_writer_is_restarted_and_nothing_is_lost_or_doubled(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    errors: list[str] = []
    w = ProcessWriter(str(db), batch_size=7, on_error=errors.append)
    for i in range(1, 201):
        assert w.submit(_fields(i))
    assert w.flush()
    first = w._proc.pid
    # an acknowledgement lost with the process: the new one must skip what is committed
    w._unacked.extend(("r", i, _fields(i)) for i in range(150, 201))
    os.kill(first, signal.SIGKILL)
    for i in range(201, 401):
        assert w.submit(_fields(i))
    assert w.flush(60)
    assert w._proc.pid != first and w.restarts == 1
    w.close()
    assert _count(db) == (400, 400)
    assert any("restarted" in e for e in errors), errors
    assert w.dropped == 0 and w.written == 400


def test_a_writer_killed_with_rows_in_hand_resends_them(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    w = ProcessWriter(str(db), batch_size=10_000, linger=30.0, on_error=lambda m: None)
    for i in range(1, 101):
        w.submit(_fields(i))
    time.sleep(1.0)  # handed over, held for the (long) linger: not committed
    assert w.pending() == 100 and _count(db)[0] == 0
    os.kill(w._proc.pid, signal.SIGKILL)
    w.close()
    assert _count(db) == (100, 100) and w.written == 100


def test_the_store_that_cannot_be_opened_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="missing-dir"):
        ProcessWriter(str(tmp_path / "missing-dir" / "x.sqlite"))


def test_shapes_are_written_once_per_distinct_shape(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    w = ProcessWriter(str(db), batch_size=3)
    for i in range(1, 11):
        w.submit(_fields(i))
    w.close()
    con = sqlite3.connect(db)
    (n,) = con.execute("SELECT COUNT(*) FROM shapes").fetchone()
    (distinct,) = con.execute("SELECT COUNT(DISTINCT response_shape) FROM exchanges").fetchone()
    assert n == distinct == 1


@pytest.mark.docker
def test_the_recorder_survives_its_writer_being_killed_under_load(docker_host: str,
                                                                 tmp_path: Path) -> None:
    """mitmdump in front of the real dockerd; the writer process is SIGKILLed mid-run: every
    answered request is stored once, and the log says what happened."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import start_recorder
    from fault_helpers import get, query, writer_pid

    rec = start_recorder(tmp_path / "c.sqlite", docker_host)
    try:
        answers = [get(rec.port, f"/v1.41/containers/json?n={i}")[0] for i in range(60)]
        os.kill(writer_pid(rec.proc.pid), signal.SIGKILL)
        answers += [get(rec.port, f"/v1.41/containers/json?n={i}")[0] for i in range(60, 120)]
    finally:
        rc = rec.stop()
    assert rc == 0 and answers == [200] * 120
    rows = query(rec.db, "SELECT COUNT(*), COUNT(DISTINCT query), COUNT(response_shape) "
                 "FROM exchanges")
    assert rows == [(120, 120, rows[0][2])] and rows[0][2] >= 60
    assert "writer process exited" in rec.log.read_text()


def test_the_proxy_process_never_imports_sqlalchemy() -> None:
    """Rows, shapes and INSERTs are the writer process's: the addon loads none of it."""
    import subprocess
    import sys

    addon = Path(__file__).resolve().parents[1] / "addons" / "docker_recorder.py"
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('rec', {str(addon)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in "
            "('sqlalchemy', 'pandas', 'matplotlib') or k in ('dockdrift.db.extract', "
            "'dockdrift.db.engine', 'dockdrift.db.models')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd="/")
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
