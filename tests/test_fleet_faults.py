"""The fleet store under faults and many writers, against a real PostgreSQL and the real dockerd.

A private PostgreSQL per test where the test stops or breaks it (scripts/postgres-up.sh DIR
with its own port), so the shared test server is never disturbed.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fault_helpers import get
from sqlalchemy import create_engine, text

from conftest import ROOT, VENV_BIN, Recorder, free_port, start_recorder
from pg_fixtures import need

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PG_BIN = next((f"/usr/lib/postgresql/{v}/bin" for v in (17, 16, 15)
               if os.path.exists(f"/usr/lib/postgresql/{v}/bin/pg_ctl")), None)


class PrivatePostgres:
    """A PostgreSQL of one test's own: started, stopped and started again at will."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.port = directory, free_port()
        self.url = (f"postgresql+psycopg://dockdrift@/dockdrift?host={directory}/socket"
                    f"&port={self.port}")

    def up(self) -> None:
        r = subprocess.run([str(ROOT / "scripts" / "postgres-up.sh"), str(self.dir)],
                           env={**os.environ, "DOCKDRIFT_PG_PORT": str(self.port)},
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def down(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D",
                        str(self.dir / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60, check=True)

    def count(self, where: str = "") -> int:
        engine = create_engine(self.url)
        try:
            with engine.connect() as c:
                return int(c.execute(text(f"SELECT count(*) FROM exchanges {where}")).scalar())
        finally:
            engine.dispose()

    def wait_count(self, want: int, timeout: float = 60.0) -> int:
        deadline, n = time.monotonic() + timeout, -1
        while time.monotonic() < deadline:
            try:
                n = self.count()
            except Exception:  # noqa: BLE001 - the server may still be coming back
                n = -1
            if n == want:
                return n
            time.sleep(0.2)
        return n


def start_many(n: int, start: Callable[[int], Recorder]) -> list[Recorder]:
    """Start n recorders at once (each start waits for its port; in parallel that is one wait)."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(start, range(n)))


@pytest.fixture
def private_pg(tmp_path: Path, pg_server) -> Iterator[PrivatePostgres]:
    need(PG_BIN is not None, "PostgreSQL is not installed")
    directory = Path(f"/tmp/dd-pg-{os.getpid()}-{free_port()}")
    pg = PrivatePostgres(directory)
    pg.up()
    yield pg
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D",
                    str(directory / "data"), "-m", "immediate", "-w", "stop"],
                   capture_output=True, timeout=60)
    subprocess.run(["rm", "-rf", str(directory)], timeout=60)


def test_postgres_restarted_mid_run_loses_nothing(docker_host: str, private_pg,
                                                  tmp_path: Path) -> None:
    rec = start_recorder(tmp_path / "unused.sqlite", docker_host,
                         store=private_pg.url)
    try:
        for _ in range(20):
            assert get(rec.port, "/v1.41/_ping")[0] == 200
        assert private_pg.wait_count(20) == 20
        private_pg.down()
        for _ in range(30):  # clients are served while the store is away
            assert get(rec.port, "/v1.41/_ping")[0] == 200
        private_pg.up()
        assert private_pg.wait_count(50) == 50  # the writer reconnected, kept every row
    finally:
        assert rec.stop() == 0
    log = rec.log.read_text(errors="replace")
    assert "retrying, rows are kept in memory" in log  # (recovery is logged at WARNING; -q hides it)
    assert "Traceback" not in log
    assert private_pg.count() == 50


def test_queue_bound_hit_while_postgres_is_down_is_counted(docker_host: str, private_pg,
                                                           tmp_path: Path) -> None:
    rec = start_recorder(tmp_path / "unused.sqlite", docker_host,
                         "--set", "dockdrift_max_queue=5", store=private_pg.url)
    try:
        assert get(rec.port, "/v1.41/_ping")[0] == 200
        assert private_pg.wait_count(1) == 1
        private_pg.down()
        for _ in range(40):
            assert get(rec.port, "/v1.41/_ping")[0] == 200
        private_pg.up()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "exchanges NOT recorded" not in rec.log.read_text():
            time.sleep(0.2)
    finally:
        rec.stop()
    log = rec.log.read_text(errors="replace")
    stored = private_pg.count()
    assert "exchanges NOT recorded" in log and "Traceback" not in log
    assert 1 < stored < 41  # what fitted in the bound was written afterwards
    lost = 41 - stored
    assert f"{lost} exchanges were NOT recorded" in log, log[-2000:]


def test_postgres_unreachable_at_start_refuses_to_proxy(docker_host: str, tmp_path: Path) -> None:
    url = f"postgresql+psycopg://dockdrift@127.0.0.1:{free_port()}/dockdrift"
    r = subprocess.run([str(VENV_BIN / "dockdrift"), "capture", "--upstream", docker_host, "--listen",
                        f"127.0.0.1:{free_port()}", "--db", url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    ours = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(ours) == 1 and "is the database server running" in ours[0], r.stderr


def test_database_dropped_mid_run_is_reported_in_lines(docker_host: str, private_pg,
                                                       tmp_path: Path) -> None:
    rec = start_recorder(tmp_path / "unused.sqlite", docker_host,
                         store=private_pg.url)
    try:
        assert get(rec.port, "/v1.41/_ping")[0] == 200
        assert private_pg.wait_count(1) == 1
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/psql", "-h",
                        f"{private_pg.dir}/socket", "-p", str(private_pg.port), "-d", "postgres",
                        "-c", "DROP DATABASE dockdrift WITH (FORCE)"],
                       capture_output=True, check=True, timeout=60)
        assert get(rec.port, "/v1.41/_ping")[0] == 200  # still transparent
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "cannot write" not in rec.log.read_text():
            time.sleep(0.2)
    finally:
        rec.proc.terminate()
        rec.proc.wait(120)
    log = rec.log.read_text(errors="replace")
    assert 'database "dockdrift" does not exist' in log and "Traceback" not in log


def test_eight_recorders_into_one_postgres_store_every_exchange_once(
        docker_host: str, pg_store: str, tmp_path: Path) -> None:
    recorders = start_many(8, lambda i: start_recorder(
        tmp_path / f"r{i}.sqlite", docker_host, "--set", f"dockdrift_recorder=host-{i}",
        store=pg_store, wait=180))
    per = 25
    errors: list[str] = []

    def load(port: int) -> None:
        for n in range(per):
            status, _ = get(port, f"/v1.41/containers/dd-fleet-{n}/json")
            if status != 404:
                errors.append(f"{port}: {status}")

    try:
        threads = [threading.Thread(target=load, args=(r.port,)) for r in recorders
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        codes = [r.stop() for r in recorders]
    assert not errors and codes == [0] * 8
    engine = create_engine(pg_store)
    with engine.connect() as c:
        by = dict(c.execute(text("SELECT recorder, count(*) FROM exchanges GROUP BY 1")).all())
    engine.dispose()
    assert by == {f"host-{i}": 2 * per for i in range(8)}


def test_four_recorders_on_one_sqlite_file(docker_host: str, tmp_path: Path) -> None:
    """WAL and the busy timeout let several recorders share one SQLite file (one host)."""
    db = tmp_path / "shared.sqlite"
    recorders = start_many(4, lambda i: start_recorder(
        db, docker_host, "--set", f"dockdrift_recorder=proc-{i}", wait=180))
    try:
        threads = [threading.Thread(target=lambda p=r.port: [get(p, "/v1.41/_ping")
                                                            for _ in range(40)])
                   for r in recorders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        codes = [r.stop() for r in recorders]
    import sqlite3

    got = dict(sqlite3.connect(db).execute(
        "SELECT recorder, count(*) FROM exchanges GROUP BY 1").fetchall())
    assert codes == [0] * 4 and got == {f"proc-{i}": 40 for i in range(4)}
