"""The fleet store: the same store, report and drift paths on SQLite and a real PostgreSQL;
`dockdrift import` (idempotent shipping); one-line errors for a server that is not there."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from drift_helpers import NOW, capture
from report_helpers import write_capture
from sqlalchemy import func, select

from dockdrift.db.engine import StoreError, make_engine
from dockdrift.db.models import Exchange
from dockdrift.db.shipping import store_id
from dockdrift.db.writer import BatchWriter
from dockdrift.cli import main
from pg_fixtures import PG_PORT, pg_url


def count(url: str) -> int:
    engine = make_engine(url, create=False)
    try:
        with engine.connect() as c:
            return int(c.scalar(select(func.count()).select_from(Exchange)) or 0)
    finally:
        engine.dispose()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_writer_and_schema_on_both(store_url: str) -> None:
    engine = make_engine(store_url)
    w = BatchWriter(engine, batch_size=7)
    for i in range(50):
        w.submit({"started_at": NOW, "method": "GET", "path": f"/v1.41/containers/c{i}/json",
                  "route": "/containers/{name:.*}/json", "status_code": 200, "hijacked": False,
                  "target": "podman", "target_version": "4.3.1", "recorder": "host-a"})
    assert w.flush()
    w.close()
    with engine.connect() as c:
        got = c.execute(select(Exchange.target, Exchange.target_version, Exchange.recorder,
                               func.count()).group_by(Exchange.target, Exchange.target_version,
                                                      Exchange.recorder)).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [("podman", "4.3.1", "host-a", 50)]


def test_report_and_drift_read_both(store_url: str, capsys) -> None:
    write_capture(store_url)
    code, out, _ = run(capsys, "report", "--db", store_url, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert {"POST", "GET", "HEAD"} <= {r["method"] for r in doc["routes"]}


def test_drift_finds_the_shift_on_both(store_url: str, capsys, tmp_path: Path) -> None:
    capture(store_url, shifted=True)  # type: ignore[arg-type]
    base = f"{(NOW - timedelta(days=8)).isoformat()}..{(NOW - timedelta(days=1)).isoformat()}"
    cur = f"{(NOW - timedelta(days=1)).isoformat()}..{(NOW + timedelta(seconds=1)).isoformat()}"
    code, out, err = run(capsys, "drift", "--db", store_url, "--baseline", base, "--current", cur,
                         "--format", "json")
    assert code == 1, err
    kinds = {(f["route"], f["kind"]) for f in json.loads(out)["findings"]}
    assert ("/containers/{name:.*}/json", "share_shift") in kinds


def test_import_is_idempotent_and_keeps_identity(tmp_path: Path, pg_store: str,
                                                 capsys) -> None:
    a = write_capture(tmp_path / "host-a.sqlite")
    b = write_capture(tmp_path / "host-b.sqlite")
    n = count(str(a))
    code, _, err = run(capsys, "import", str(a), str(b), "--into", pg_store)
    assert code == 0, err
    assert count(pg_store) == 2 * n
    assert f"{n} exchanges read, {n} added, 0 already there" in err
    code, _, err = run(capsys, "import", str(a), str(b), "--into", pg_store)  # again: nothing
    assert code == 0 and count(pg_store) == 2 * n
    assert f"{n} exchanges read, 0 added, {n} already there" in err
    # a copy of the file is the same capture; the fleet store re-shipped elsewhere too
    copy = tmp_path / "copy-of-a.sqlite"
    copy.write_bytes(a.read_bytes())
    assert run(capsys, "import", str(copy), "--into", pg_store)[0] == 0
    assert count(pg_store) == 2 * n
    archive = tmp_path / "archive.sqlite"
    assert run(capsys, "import", pg_store, str(a), "--into", str(archive))[0] == 0
    assert count(str(archive)) == 2 * n
    sid = store_id(make_engine(str(a), create=False))
    uids = {r[0] for r in sqlite3.connect(archive).execute("select uid from exchanges")}
    assert f"{sid}:1" in uids and len(uids) == 2 * n


def test_import_brings_the_body_shapes_along(tmp_path: Path, pg_store: str, capsys) -> None:
    """Rows point at `shapes` by hash: an import copies the shapes the target lacks, once."""
    a = write_capture(tmp_path / "host-a.sqlite")
    con = sqlite3.connect(a)
    con.execute("insert into shapes (shape_hash, shape, truncated, stream) "
                "values ('h1', '{\".Id\": [\"string\"]}', 0, 0)")
    con.execute("update exchanges set response_shape = 'h1'")
    con.commit()
    con.close()
    for _ in range(2):  # the second import finds the shape there and adds nothing
        code, _, err = run(capsys, "import", str(a), "--into", pg_store)
        assert code == 0, err
    with make_engine(pg_store).connect() as conn:
        shapes = conn.exec_driver_sql("select shape_hash, shape from shapes").all()
        pointing = conn.exec_driver_sql(
            "select count(*) from exchanges where response_shape = 'h1'").scalar()
    assert [tuple(s) for s in shapes] == [("h1", '{".Id": ["string"]}')]
    assert pointing == count(str(a))


def test_import_refuses_itself_and_missing_sources(tmp_path: Path, capsys) -> None:
    a = write_capture(tmp_path / "a.sqlite")
    code, _, err = run(capsys, "import", str(a), "--into", str(a))
    assert code == 2 and "itself" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "import", str(tmp_path / "nope.sqlite"), "--into", str(a))
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("url, says", [
    (f"postgresql+psycopg://dockdrift@127.0.0.1:{PG_PORT + 7}/dockdrift", "is the database server running"),
    (f"postgresql+psycopg://dockdrift:wrong@127.0.0.1:{PG_PORT}/dockdrift", "check the user and the password"),
    ("DBNAME", "create it first"),
])
def test_server_errors_are_one_line(url: str, says: str, pg_server, capsys,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    if url == "DBNAME":
        url = pg_url("dd_no_such_database")
    code, out, err = run(capsys, "report", "--db", url)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert "wrong" not in err  # the password is never shown
    with pytest.raises(StoreError):
        make_engine(url)


def _open_store(url: str) -> None:
    make_engine(url).dispose()


def open_from_processes(url: str, n: int = 8) -> dict[str, str]:
    """n processes open the store at the same instant; all must succeed. Returns its meta."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_open_store, args=(url,)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * n
    engine = make_engine(url, create=False)
    with engine.connect() as c:
        meta = dict(c.exec_driver_sql("select key, value from dockdrift_meta").all())
    engine.dispose()
    assert meta["schema_version"] == "3" and len(meta["store_id"]) == 32
    return meta


def test_many_processes_create_one_new_store_at_once(store_url: str) -> None:
    """A fleet's first start: eight recorders open the same new store in the same instant."""
    open_from_processes(store_url)


def _schema1_store(url: str) -> None:
    """A store as dockdrift 0.1 wrote it (schema 1): what a fleet has before an upgrade."""
    from sqlalchemy import create_engine, text

    from dockdrift.db.engine import to_url

    url = to_url(url)
    ts = "timestamp" if url.startswith("postgresql") else "datetime"
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(f"create table exchanges (id integer primary key, started_at {ts}, "
                       "method varchar(16), path text, query text, api_version varchar(16), "
                       "route varchar(128), handler varchar(128), route_source varchar(32), "
                       "status_code integer, error text, error_message varchar(200), "
                       "duration_ms float, request_bytes integer, response_bytes integer, "
                       "hijacked boolean, user_agent varchar(256), server varchar(128), "
                       "target varchar(16), client varchar(64))"))
        c.execute(text(f"create table drift_runs (id integer primary key, created_at {ts}, "
                       f"baseline_start {ts}, baseline_end {ts}, current_start {ts}, "
                       f"current_end {ts}, n_findings integer, findings_json text, "
                       "params_json text)"))
        c.execute(text("create table dockdrift_meta (key varchar(64) primary key, value text)"))
        c.execute(text("insert into dockdrift_meta values ('schema_version', '1')"))
        c.execute(text("insert into exchanges (id, started_at, method, path, status_code, "
                       "hijacked) values (1, '2026-01-01 00:00:00', 'GET', '/_ping', 200, false)"))
    engine.dispose()


def test_many_processes_migrate_one_old_store_at_once(store_url: str) -> None:
    """The fleet upgraded: eight recorders restart at once on a schema 1 store. One migrates,
    the others wait for it and find schema 2 (no duplicate ALTER TABLE, no traceback)."""
    _schema1_store(store_url)
    open_from_processes(store_url)
    engine = make_engine(store_url, create=False)
    with engine.connect() as c:
        rows = c.exec_driver_sql("select path, recorder, denied from exchanges").all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("/_ping", None, False)]
