"""`dockdrift report` and `dockdrift drift` on a large store, next to the floor.

The floor is the same aggregation as a bare SQL GROUP BY on the same file, run by a child
`python` with only sqlite3 loaded: what no report can beat. Every command runs in a child
process; wall time and peak RSS (ru_maxrss from wait4) are that child's. Each is repeated and
the fastest run kept (the machine is shared: the minimum is the least disturbed figure).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
SQL_4 = ("SELECT target, method, route, status_code, count(*) FROM exchanges {where}"
         "GROUP BY 1, 2, 3, 4")
# What analysis.load.observed_counts asks (the report's main query).
SQL_6 = ("SELECT target, method, route, handler, api_version, status_code, count(*) "
         "FROM exchanges WHERE status_code IS NOT NULL {where}GROUP BY 1, 2, 3, 4, 5, 6")
_FLOOR = """
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
n = 0
for sql in sys.argv[2:]:
    n += len(conn.execute(sql).fetchall())
print(n)
"""
# The same queries at once, one connection per thread: `dockdrift drift` runs its two windows
# concurrently (SQLite releases the GIL), so this is its floor on a machine with a spare core.
_FLOOR_CONCURRENT = """
import sqlite3, sys, threading
out = []
def one(sql):
    conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    out.append(len(conn.execute(sql).fetchall()))
threads = [threading.Thread(target=one, args=(sql,)) for sql in sys.argv[2:]]
for t in threads: t.start()
for t in threads: t.join()
print(sum(out))
"""


def run_child(cmd: list[str]) -> tuple[float, int, int, str, str]:
    """One run: (wall seconds, peak RSS KiB, exit code, stdout, stderr) of exactly this child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the pipes ourselves so we can reap the child with wait4 (per-child rusage).
    import threading

    def drain(pipe, sink: list[bytes]) -> None:
        sink.append(pipe.read())

    o, e = [], []
    threads = [threading.Thread(target=drain, args=(proc.stdout, o)),
               threading.Thread(target=drain, args=(proc.stderr, e))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = o[0], e[0]
    return wall, usage.ru_maxrss, proc.returncode, out.decode(errors="replace"), \
        err.decode(errors="replace")


def measure(cmd: list[str], repeat: int) -> dict:
    runs = [run_child(cmd) for _ in range(repeat)]
    wall, rss, code, out, err = min(runs, key=lambda r: r[0])
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(max(r[1] for r in runs) / 1024, 1),
            "exit": code, "tail": (out if code in (0, 1) else err).strip()[-300:]}


def drift_windows(last: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Drift's default windows (baseline 8d..1d, current 1d..now) relative to the last exchange,
    so a generated store ending now and one ending earlier are measured alike."""
    end = last + timedelta(seconds=1)
    return {"baseline": (end - timedelta(days=8), end - timedelta(days=1)),
            "current": (end - timedelta(days=1), end)}


def windows(db: Path) -> dict[str, tuple[str, str]]:
    """`drift_windows` of a SQLite store, in SQLite's text format."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        last = conn.execute("SELECT max(started_at) FROM exchanges").fetchone()[0]
    return {k: (a.isoformat(sep=" "), b.isoformat(sep=" "))
            for k, (a, b) in drift_windows(datetime.fromisoformat(last)).items()}


def plans(db: Path, sqls: list[str]) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [" / ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + s))
                for s in sqls]


def run(db: Path, *, repeat: int = 2) -> dict:
    """Floors and the real commands on one store."""
    w = windows(db)
    where = [f"AND started_at >= '{a}' AND started_at < '{b}' " for a, b in w.values()]
    where4 = [f"WHERE started_at >= '{a}' AND started_at < '{b}' " for a, b in w.values()]
    floor_sql = {
        "floor_report_4col": [SQL_4.format(where="")],
        "floor_report_6col": [SQL_6.format(where="")],
        "floor_drift_4col": [SQL_4.format(where=x) for x in where4],
        "floor_drift_6col": [SQL_6.format(where=x) for x in where],
    }
    py = str(BIN / "python")
    out: dict = {"rows": _rows(db), "bytes": db.stat().st_size, "windows": w}
    for name, sqls in floor_sql.items():
        out[name] = measure([py, "-c", _FLOOR, str(db), *sqls], repeat)
        out[name]["plan"] = plans(db, sqls)
    out["floor_drift_6col_concurrent"] = measure(
        [py, "-c", _FLOOR_CONCURRENT, str(db), *floor_sql["floor_drift_6col"]], repeat)
    exe = str(BIN / "dockdrift")
    out["report"] = measure([exe, "report", "--db", str(db), "--format", "json",
                             "--output", os.devnull], repeat)
    iso = lambda t: t.replace(" ", "T")  # noqa: E731
    b, c = w["baseline"], w["current"]
    out["drift"] = measure([exe, "drift", "--db", str(db), "--baseline",
                            f"{iso(b[0])}..{iso(b[1])}", "--current", f"{iso(c[0])}..{iso(c[1])}",
                            "--format", "json", "--output", os.devnull], repeat)
    out["python_startup"] = measure([py, "-c", "import pandas, sqlalchemy"], repeat)
    for cmd in ("report", "drift"):
        floor = out[f"floor_{cmd}_6col"]["wall_s"]
        out[f"{cmd}_over_floor"] = round(out[cmd]["wall_s"] / floor, 2) if floor else None
    floor = out["floor_drift_6col_concurrent"]["wall_s"]
    out["drift_over_concurrent_floor"] = round(out["drift"]["wall_s"] / floor, 2) if floor else None
    return out


def _rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM exchanges").fetchone()[0]
