"""The fleet store, measured: PostgreSQL inserts from 8 recorders, report/drift on PostgreSQL
next to the bare SQL floor, and a year of rollups for 100 hosts read by drift.

    python benchmarks/fleet.py --url 'postgresql+psycopg://dockdrift@/dockdrift?host=/tmp/dockdrift-postgres/socket&port=5433'
        [--writers 8] [--seconds 10] [--rows 1000000] [--hosts 100] [--groups 150] [--json]

Each part uses its own fresh database (created and dropped through the server's `postgres`
role over the unix socket), so nothing of the user's store is touched.
- inserts: N processes, each a db.writer.BatchWriter (the recorder's own writer) fed as fast
  as it takes rows, for --seconds; rows per second committed, all processes together.
- scale: a synthetic capture (benchmarks/generate.py) shipped with `dockdrift import`, then
  `dockdrift report` and `dockdrift drift` timed next to the same GROUP BY in psql-free SQL.
- rollups: --hosts x 365 days x --groups rollup rows (what `dockdrift rollup` keeps: one row
  per day and group), every raw row pruned, then `dockdrift drift` over two 30-day windows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
NOW = datetime(2026, 11, 30, 12, 0, 0)


def _admin(url: str, sql: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    q = u.query
    with psycopg.connect(host=q.get("host") or u.host, port=int(q.get("port") or u.port or 5432),
                         user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    name = f"dd_bench_{uuid.uuid4().hex[:10]}"
    _admin(url, f"CREATE DATABASE {name} OWNER {make_url(url).username or 'dockdrift'}")
    return name, make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, name: str) -> None:
    _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _writer_proc(url: str, seconds: float, recorder: str, out: mp.Queue) -> None:
    from db.engine import make_engine
    from db.writer import BatchWriter

    engine = make_engine(url)
    w = BatchWriter(engine, batch_size=500, max_queue=20000, linger=0.05)
    row = {"started_at": NOW, "method": "GET", "path": "/v1.41/containers/c1/json",
           "api_version": "1.41", "route": "/containers/{name:.*}/json",
           "handler": "getContainersJSON", "route_source": "seed-v1.22", "status_code": 200,
           "duration_ms": 1.5, "request_bytes": 0, "response_bytes": 1200, "hijacked": False,
           "user_agent": "Docker-Client/28.2.2 (linux)", "server": "Docker/26.1.5+dfsg1",
           "target": "engine", "target_version": "26.1.5+dfsg1", "recorder": recorder}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if w.pending() < 10000:
            for _ in range(500):
                w.submit(dict(row))
        else:
            time.sleep(0.005)
    w.close()
    out.put(w.written)


def inserts(url: str, writers: int, seconds: float) -> dict[str, object]:
    name, db = fresh_database(url)
    try:
        from db.engine import make_engine

        make_engine(db).dispose()  # schema once, not raced by 8 processes
        out: mp.Queue = mp.get_context("spawn").Queue()
        ctx = mp.get_context("spawn")
        t0 = time.perf_counter()
        procs = [ctx.Process(target=_writer_proc, args=(db, seconds, f"host-{i}", out))
                 for i in range(writers)]
        for p in procs:
            p.start()
        written = sum(out.get(timeout=seconds + 300) for _ in procs)
        for p in procs:
            p.join()
        wall = time.perf_counter() - t0
    finally:
        drop_database(url, name)
    return {"writers": writers, "seconds": round(wall, 1), "rows": written,
            "rows_per_s": round(written / wall)}


def _timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1, 3):
        raise RuntimeError(f"{cmd[:3]} exited {r.returncode}: {r.stderr[-500:]}")
    return time.perf_counter() - t0, r.returncode


def scale(url: str, rows: int, workdir: Path) -> dict[str, object]:
    from benchmarks.generate import generate

    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"fleet-{rows}.sqlite"
    if not src.exists():
        generate(src, rows, days=28.0, end=NOW, drift=True)
    name, db = fresh_database(url)
    try:
        t_import, _ = _timed([str(BIN / "dockdrift"), "import", str(src), "--into", db, "--quiet"])
        report = min(_timed([str(BIN / "dockdrift"), "report", "--db", db, "--format", "json"])[0]
                     for _ in range(2))
        now = NOW.isoformat()
        drift = min(_timed([str(BIN / "dockdrift"), "drift", "--db", db, "--now", now,
                            "--format", "json"])[0] for _ in range(2))
        floor = _floor(db)
    finally:
        drop_database(url, name)
    return {"rows": rows, "import_s": round(t_import, 1), "import_rows_per_s":
            round(rows / t_import), "report_s": round(report, 2), "drift_s": round(drift, 2),
            "floor_s": round(floor, 2)}


def _floor(db: str) -> float:
    """The report's GROUP BY alone, in a child with only SQLAlchemy + psycopg loaded."""
    code = ("import sys,time;from sqlalchemy import create_engine,text;"
            "e=create_engine(sys.argv[1]);t=time.perf_counter();c=e.connect();"
            "c.execute(text('SELECT target,method,route,handler,api_version,status_code,count(*) "
            "FROM exchanges WHERE status_code IS NOT NULL GROUP BY 1,2,3,4,5,6')).all();"
            "print(time.perf_counter()-t)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, db], check=True, capture_output=True)
    return time.perf_counter() - t0


def rollups(url: str, hosts: int, groups: int) -> dict[str, object]:
    """A year of rollups for a fleet, read by drift over two 30-day windows."""
    from sqlalchemy import insert, text

    from db.engine import make_engine
    from db.models import Rollup, RollupDay

    name, db = fresh_database(url)
    try:
        engine = make_engine(db)
        routes = [("GET", f"/route{g % 40}", 200 + (g % 5)) for g in range(groups)]
        t0 = time.perf_counter()
        start = NOW.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=365)
        with engine.begin() as conn:
            for d in range(365):
                day = start + timedelta(days=d)
                conn.execute(insert(Rollup), [
                    {"day": day, "recorder": f"host-{h}", "target": "engine",
                     "target_version": "26.1.5+dfsg1", "method": m, "route": r,
                     "handler": None, "api_version": "1.45", "status_code": c, "outcome": None,
                     "count": 1_000_000 // groups} for h in range(hosts) for m, r, c in routes])
                conn.execute(insert(RollupDay), [{"day": day, "raw_rows": hosts * 1_000_000,
                                                  "pruned": True}])
        load_s = time.perf_counter() - t0
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_total_relation_size('exchange_rollups')")).scalar()
        engine.dispose()
        b = f"{(NOW - timedelta(days=200)).date()}..{(NOW - timedelta(days=170)).date()}"
        c = f"{(NOW - timedelta(days=60)).date()}..{(NOW - timedelta(days=30)).date()}"
        drift_s, _ = _timed([str(BIN / "dockdrift"), "drift", "--db", db, "--baseline", b,
                             "--current", c, "--format", "json"])
    finally:
        drop_database(url, name)
    n = hosts * 365 * groups
    return {"hosts": hosts, "groups_per_host_day": groups, "rollup_rows": n,
            "rollup_bytes": int(size), "bytes_per_rollup_row": round(int(size) / n),
            "load_s": round(load_s, 1), "drift_two_30d_windows_s": round(drift_s, 2),
            "raw_rows_represented": hosts * 365 * 1_000_000}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("parts", nargs="*", default=["inserts", "scale", "rollups"])
    p.add_argument("--url", required=True, help="a PostgreSQL URL whose server has a local "
                   "`postgres` role reachable over the unix socket (scripts/postgres-up.sh)")
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--groups", type=int, default=150)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/dockdrift-bench"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    out: dict[str, object] = {"load_average": os.getloadavg()[0]}
    if "inserts" in args.parts:
        out["inserts"] = inserts(args.url, args.writers, args.seconds)
    if "scale" in args.parts:
        out["scale"] = scale(args.url, args.rows, args.workdir)
    if "rollups" in args.parts:
        out["rollups"] = rollups(args.url, args.hosts, args.groups)
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
