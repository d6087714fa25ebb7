"""The fleet store, measured: PostgreSQL inserts from 8 recorders, report/drift on PostgreSQL
next to the bare SQL floor, and a year of rollups for 100 hosts read by drift.

    python benchmarks/fleet.py --url 'postgresql+psycopg://dockdrift@/dockdrift?host=/tmp/dockdrift-postgres/socket&port=5433'
        [--writers 8] [--seconds 10] [--rows 1000000] [--replicas 10] [--hosts 100] [--groups 150] [--json]

Each part uses its own fresh database (created and dropped through the server's `postgres`
role over the unix socket), so nothing of the user's store is touched.
- inserts: N processes, each a db.writer.BatchWriter (the recorder's own writer) fed as fast
  as it takes rows, for --seconds; rows per second committed, all processes together.
- scale: a synthetic capture (benchmarks/generate.py) shipped with `dockdrift import`, then
  `dockdrift report` and `dockdrift drift` timed next to the same GROUP BY in psql-free SQL.
- import: `dockdrift import` into PostgreSQL, COPY path and portable INSERT path next to a bare
  `psql \\copy` of the same rows (the floor), alternated, each into a fresh database.
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


def create_database(url: str, name: str, exist_ok: bool = False) -> tuple[str, str]:
    """A database `name` on the server of `url`, owned by its user; (name, its URL)."""
    import psycopg
    from sqlalchemy.engine import make_url

    try:
        _admin(url, f"CREATE DATABASE {name} OWNER {make_url(url).username or 'dockdrift'}")
    except psycopg.errors.DuplicateDatabase:
        if not exist_ok:
            raise
    return name, make_url(url).set(database=name).render_as_string(hide_password=False)


def fresh_database(url: str) -> tuple[str, str]:
    return create_database(url, f"dd_bench_{uuid.uuid4().hex[:10]}")


def drop_database(url: str, name: str) -> None:
    _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _writer_proc(url: str, seconds: float, recorder: str, out: mp.Queue) -> None:
    from dockdrift.db.engine import make_engine
    from dockdrift.db.writer import BatchWriter

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
        from dockdrift.db.engine import make_engine

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


def replicate(db: str, copies: int) -> float:
    """Grow the imported capture to `copies` times its rows in SQL: copy k gets k microseconds
    added to started_at and its own uid, so the distributions stay those of the capture at
    `copies` times the density (generating 10M rows in Python would take an hour here)."""
    from sqlalchemy import text

    from dockdrift.db.engine import make_engine
    from dockdrift.db.models import Exchange

    cols = [c.name for c in Exchange.__table__.columns if c.name not in ("id", "started_at", "uid")]
    names = ", ".join(cols)
    engine = make_engine(db)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM exchanges")).scalar()
        conn.commit()
        for k in range(1, copies):
            with conn.begin():
                conn.execute(text(
                    f"INSERT INTO exchanges (started_at, uid, {names}) "
                    f"SELECT started_at + make_interval(secs => :k * 1e-6), uid || '-r' || :k, "
                    f"{names} FROM exchanges WHERE id <= :top"), {"k": k, "top": top})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE exchanges"))
    engine.dispose()
    return time.perf_counter() - t0


def scale(url: str, rows: int, workdir: Path, replicas: int = 1,
          repeat: int = 2, keep: str | None = None) -> dict[str, object]:
    """`keep`: build the store in this database once and keep it (measure again without the
    import); otherwise a fresh database, dropped afterwards."""
    from benchmarks.generate import generate

    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"fleet-{rows}.sqlite"
    if not src.exists():
        generate(src, rows, days=28.0, end=NOW, drift=True)
    name, db = create_database(url, keep, exist_ok=True) if keep else fresh_database(url)
    t_import = t_replicate = 0.0
    try:
        have = _rows(db) if keep else 0
        if have not in (rows, rows * replicas):
            if have:
                drop_database(url, name)
                name, db = create_database(url, name)
            t_import, _ = _timed([str(BIN / "dockdrift"), "import", str(src), "--into", db,
                                  "--quiet"])
        if have != rows * replicas and replicas > 1:
            t_replicate = replicate(db, replicas)
        out = floors_and_commands(db, repeat)
    finally:
        if not keep:
            drop_database(url, name)
    return {"rows": rows * replicas, "imported_rows": rows, "replicas": replicas,
            "replicate_s": round(t_replicate, 1), "import_s": round(t_import, 1),
            "import_rows_per_s": round(rows / t_import) if t_import else None, **out}


def import_rates(url: str, rows: int, workdir: Path, repeat: int = 2) -> dict[str, object]:
    """`dockdrift import` into PostgreSQL: the COPY path, the portable INSERT path and the
    floor (a bare `psql \\copy` of the same rows from CSV into an empty store), alternated
    in one run, each into a fresh database; the fastest of `repeat` runs is kept."""
    import csv

    from benchmarks.generate import generate
    from dockdrift.db.engine import make_engine
    from dockdrift.db.shipping import COPIED_COLUMNS, batches, import_store

    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"fleet-{rows}.sqlite"
    if not src.exists():
        generate(src, rows, days=28.0, end=NOW, drift=True)
    source = make_engine(str(src), create=False)
    dump = workdir / f"fleet-{rows}.csv"
    with dump.open("w", newline="") as f:
        out = csv.writer(f)
        for batch in batches(source):
            out.writerows([["" if v is None else v for v in r] for r in batch])
    best: dict[str, float] = {}
    for _ in range(repeat):
        for how in ("copy", "insert", "floor"):
            name, db = fresh_database(url)
            try:
                into = make_engine(db)
                start = time.perf_counter()
                if how == "floor":
                    subprocess.run([*_psql(db), "-c", f"\\copy exchanges "
                                    f"({', '.join(COPIED_COLUMNS)}) from '{dump}' csv"],
                                   check=True, capture_output=True)
                else:
                    import_store(source, into, copy=how == "copy")
                elapsed = time.perf_counter() - start
                into.dispose()
                assert _rows(db) == rows, (how, _rows(db))
            finally:
                drop_database(url, name)
            best[how] = min(best.get(how, elapsed), elapsed)
    source.dispose()
    return {"rows": rows, **{f"{k}_rows_per_s": round(rows / v) for k, v in best.items()},
            "copy_vs_floor": round(best["copy"] / best["floor"], 2)}


def _rows(db: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM exchanges")).scalar() or 0
    except Exception:  # no schema yet
        return 0
    finally:
        engine.dispose()


def _psql(db: str) -> list[str]:
    """A bare `psql` on the store's own server: the floor no report on PostgreSQL can beat."""
    from sqlalchemy.engine import make_url

    u = make_url(db)
    return ["psql", "-X", "-q", "-A", "-t", "-h", u.query.get("host") or u.host or "localhost",
            "-p", str(u.query.get("port") or u.port or 5432), "-U", u.username or "dockdrift",
            "-d", u.database]


def floors_and_commands(db: str, repeat: int) -> dict[str, object]:
    """The report's and drift's GROUP BYs in a bare psql child (the floor; drift's two windows
    also concurrently, as drift runs them), then the real commands; fastest of `repeat`."""
    from sqlalchemy import text

    from benchmarks.scale import SQL_6, drift_windows, measure
    from dockdrift.db.engine import make_engine

    engine = make_engine(db)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT max(started_at) FROM exchanges")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM exchanges")).scalar()
    engine.dispose()
    w = drift_windows(last)
    where = [f"AND started_at >= '{a.isoformat()}' AND started_at < '{b.isoformat()}' "
             for a, b in w.values()]
    psql = _psql(db)
    out: dict[str, object] = {"rows_in_store": rows,
                              "windows": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in w.items()}}
    # One untimed pass first: the floor and the commands then all read a warm cache.
    subprocess.run([*psql, "-c", SQL_6.format(where="")], capture_output=True, check=True)
    out["floor_report"] = measure([*psql, "-c", SQL_6.format(where="")], repeat)
    out["floor_drift"] = measure([*psql, *[a for x in where for a in ("-c", SQL_6.format(where=x))]],
                                 repeat)
    both = " & ".join(f"{' '.join(map(repr, psql))} -c {SQL_6.format(where=x)!r} >/dev/null"
                      for x in where)
    out["floor_drift_concurrent"] = measure(["bash", "-c", both + " & wait"], repeat)
    exe = str(BIN / "dockdrift")
    out["report"] = measure([exe, "report", "--db", db, "--format", "json",
                             "--output", os.devnull], repeat)
    b, c = w["baseline"], w["current"]
    out["drift"] = measure([exe, "drift", "--db", db, "--baseline",
                            f"{b[0].isoformat()}..{b[1].isoformat()}", "--current",
                            f"{c[0].isoformat()}..{c[1].isoformat()}", "--format", "json",
                            "--output", os.devnull], repeat)
    for cmd, floor in (("report", "floor_report"), ("drift", "floor_drift")):
        out[f"{cmd}_over_floor"] = round(out[cmd]["wall_s"] / out[floor]["wall_s"], 2)
    out["drift_over_concurrent_floor"] = round(
        out["drift"]["wall_s"] / out["floor_drift_concurrent"]["wall_s"], 2)
    return out


def rollups(url: str, hosts: int, groups: int) -> dict[str, object]:
    """A year of rollups for a fleet, read by drift over two 30-day windows."""
    from sqlalchemy import insert, text

    from dockdrift.db.engine import make_engine
    from dockdrift.db.models import Rollup, RollupDay

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
    p.add_argument("--replicas", type=int, default=1, help="scale: grow the imported capture "
                   "to this many copies in SQL (10 with --rows 1000000: a 10M store)")
    p.add_argument("--repeat", type=int, default=2, help="scale: runs per command (fastest kept)")
    p.add_argument("--keep", metavar="DATABASE", help="scale: build the store in this database "
                   "and keep it for the next run (e.g. dd_bench_10m)")
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--groups", type=int, default=150)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/dockdrift-bench"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    out: dict[str, object] = {"load_average": os.getloadavg()[0]}
    if "inserts" in args.parts:
        out["inserts"] = inserts(args.url, args.writers, args.seconds)
    if "scale" in args.parts:
        out["scale"] = scale(args.url, args.rows, args.workdir, args.replicas, args.repeat,
                             args.keep)
    if "rollups" in args.parts:
        out["rollups"] = rollups(args.url, args.hosts, args.groups)
    if "import" in args.parts:
        out["import"] = import_rates(args.url, args.rows, args.workdir, args.repeat)
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
