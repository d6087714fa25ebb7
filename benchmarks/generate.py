"""Write N synthetic exchanges with realistic distributions straight into a dockdrift store.

    python benchmarks/generate.py --rows 1000000 --db /tmp/big.sqlite [--days 28] [--drift]

Routes come from the documented tables (a few popular ones dominate, as with the docker CLI),
codes from each route's documented codes (mostly the success code, some 404/409/500 and a
few undocumented ones), targets engine/swarm, API versions, user agents and server versions
in realistic proportions, times spread over `--days` weeks in increasing order (as a capture
grows). `--drift` changes the codes of a few routes during the last day, so `dockdrift drift`
has something to find. Speed: a pool of pre-built row templates sampled uniformly, one
`executemany` per big transaction, `PRAGMA synchronous=OFF`, the `exchanges` indexes dropped
during the load and rebuilt after (10M rows in a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.progress import Progress  # noqa: E402

# Where the docker CLI's traffic goes in practice: popular routes and their weight.
POPULAR = {("HEAD", "/_ping"): 30, ("GET", "/_ping"): 10, ("GET", "/version"): 8,
           ("GET", "/info"): 5, ("GET", "/containers/json"): 25,
           ("GET", "/containers/{name:.*}/json"): 25, ("POST", "/containers/create"): 6,
           ("POST", "/containers/{name:.*}/start"): 6, ("POST", "/containers/{name:.*}/wait"): 6,
           ("POST", "/containers/{name:.*}/attach"): 4, ("DELETE", "/containers/{name:.*}"): 6,
           ("GET", "/images/json"): 8, ("GET", "/images/{name:.*}/json"): 8,
           ("POST", "/exec/{name:.*}/start"): 3, ("POST", "/containers/{name:.*}/exec"): 3,
           ("GET", "/containers/{name:.*}/logs"): 3, ("GET", "/events"): 2}
TAIL_WEIGHT = 0.2  # every other documented route
VERSIONS = [("1.41", 55), ("1.43", 15), ("1.24", 8), ("1.22", 5), (None, 17)]
AGENTS = [("Docker-Client/28.2.2 (linux)", 60), ("docker-py/7.1.0", 20),
          ("Go-http-client/1.1", 10), ("docker-compose/2.27.0", 8), (None, 2)]
ENGINE_SERVERS = [("Docker/20.10.24+dfsg1 (linux)", 70), ("Docker/24.0.7 (linux)", 30)]
SWARM_SERVER = "swarm/1.2.9"
NAMES = [f"web-{i}" for i in range(40)] + [f"{random.Random(i).getrandbits(48):012x}"
                                           for i in range(40)]
IMAGES = ["busybox:local", "library/ubuntu:22.04", "nginx:1.27", "registry.local:5000/app/api:3"]
POOL = 5000  # distinct row templates (routes x codes x versions x agents x paths)
COLUMNS = ("method", "path", "query", "api_version", "route", "handler", "route_source",
           "status_code", "error", "error_message", "duration_ms", "request_bytes",
           "response_bytes", "hijacked", "user_agent", "server", "target", "client", "denied",
           "started_at")


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _render(route: str, rng: random.Random) -> str:
    """A concrete request path for a route template (what a client would send)."""
    from dockdrift.db.routes import _VAR

    def value(m) -> str:
        return rng.choice(IMAGES) if "image" in route or route.startswith("/images") \
            else rng.choice(NAMES)
    return _VAR.sub(value, route)


def _codes(route_codes: dict, method: str, route: str, target: str) -> list[tuple[int, float]]:
    """Codes per route: mostly the documented success code, then errors, a few undocumented."""
    documented = sorted(route_codes.get((target, method, route), ()) or (200,))
    ok = [c for c in documented if c < 400] or [200]
    errors = [c for c in documented if c >= 400]
    out = [(ok[0], 0.9)] + [(c, 0.05 / max(1, len(ok) - 1)) for c in ok[1:]]
    out += [(c, 0.045 / max(1, len(errors))) for c in errors]
    out.append((rng_undocumented(documented), 0.005))
    return out


def rng_undocumented(documented: list[int]) -> int:
    return next(c for c in (500, 409, 400, 503, 403) if c not in documented)


def _route_table() -> tuple[list[tuple[str, str, float]], dict]:
    from dockdrift.db import tables
    from dockdrift.db.routes import table_rows

    codes: dict = {}
    for r in tables.read_seed():
        codes[("swarm", r.method, r.route)] = r.swarm_codes
        codes[("engine", r.method, r.route)] = r.engine_codes
    for version in tables.spec_files():
        for r in tables.read_spec(version):
            codes.setdefault(("engine", r.method, r.route), r.engine_codes)
    seen, routes = set(), []
    for method, route, _handler, _source in table_rows():
        if (method, route) not in seen:
            seen.add((method, route))
            routes.append((method, route, POPULAR.get((method, route), TAIL_WEIGHT)))
    return routes, codes


def build_pool(size: int, seed: int, shifted: bool = False) -> list[tuple]:
    """Row templates (every column but started_at) drawn from the realistic distributions."""
    from dockdrift.db.routes import match

    rng = random.Random(seed)
    routes, codes = _route_table()
    cum = list(itertools.accumulate(w for _, _, w in routes))
    pool = []
    for _ in range(size):
        method, route, _ = rng.choices(routes, cum_weights=cum)[0]
        target = "swarm" if rng.random() < 0.2 else "engine"
        version = _weighted(rng, VERSIONS)
        path = (f"/v{version}" if version else "") + _render(route, rng)
        if rng.random() < 0.005:  # a path no table knows: stored with route NULL
            method, path = "GET", f"/v{version or '1.41'}/containers/{rng.choice(NAMES)}/nonsense"
        m = match(method, path)
        dist = _codes(codes, method, route, target)
        if shifted and route in ("/containers/{name:.*}/json", "/images/json"):
            dist = [(500, 0.3), (409, 0.1), *dist]  # the drift `--drift` injects
        if rng.random() < 0.01:
            dist = [(404, 1.0)]  # a typo'd route / missing object
        status = rng.choices([c for c, _ in dist], [p for _, p in dist])[0]
        error = None
        if rng.random() < 0.001:
            status, error = None, "Server connection to ('127.0.0.1', 2375) failed"
        message = f"No such container: {rng.choice(NAMES)}" if status and status >= 400 else None
        server = SWARM_SERVER if target == "swarm" else _weighted(rng, ENGINE_SERVERS)
        pool.append((method, path,
                     "all=1" if route.endswith("/json") and rng.random() < 0.3 else None,
                     m.api_version, m.route, m.handler, m.source, status, error, message,
                     round(rng.lognormvariate(1.0, 1.2), 3), rng.choice((0, 0, 0, 120, 2048)),
                     int(rng.lognormvariate(6, 1.5)), status == 101,
                     _weighted(rng, AGENTS), server, target, "127.0.0.1", False))
    return pool


def _drop_indexes(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND "
                        "tbl_name='exchanges' AND sql IS NOT NULL").fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def generate(db: Path, rows: int, *, days: float = 28.0, end: datetime | None = None,
             drift: bool = False, seed: int = 1, batch: int = 100_000,
             progress: bool | None = None) -> dict:
    """Append `rows` synthetic exchanges to the store at `db` (created if needed)."""
    from dockdrift.db.documented import sync_documented
    from dockdrift.db.engine import make_engine

    t0 = time.perf_counter()
    engine = make_engine(db)
    sync_documented(engine)
    engine.dispose()
    end = end or datetime.now(UTC).replace(tzinfo=None)
    start_us = int((end - timedelta(days=days)).replace(tzinfo=UTC).timestamp() * 1e6)
    step = days * 86400e6 / max(rows, 1)
    shift_from = rows - int(rows / days) if drift else rows + 1  # the last day's rows
    pools = (build_pool(POOL, seed), build_pool(POOL, seed + 1, shifted=True) if drift else [])
    rng = random.Random(seed)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: index builds sort in memory
    conn.execute("PRAGMA journal_mode=WAL")
    indexes = _drop_indexes(conn)
    # `denied` (schema 2) is NOT NULL: every generated exchange passed the proxy
    sql = (f"INSERT INTO exchanges ({', '.join(COLUMNS)}, denied) "
           f"VALUES ({', '.join('?' * len(COLUMNS))}, 0)")
    bar = Progress("generate", rows, enabled=progress)
    done, last_min, prefix = 0, -1, ""
    while done < rows:
        n = min(batch, rows - done)
        pool = pools[1] if done >= shift_from else pools[0]
        picks = rng.choices(pool, k=n)
        out = []
        for i, tmpl in enumerate(picks, done):
            us = start_us + int(i * step)
            minute, us_in_min = divmod(us, 60_000_000)
            if minute != last_min:  # strftime once a minute: it dominated the loop
                last_min = minute
                prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M:")
            sec, frac = divmod(us_in_min, 1_000_000)
            out.append((*tmpl, f"{prefix}{sec:02d}.{frac:06d}"))
        conn.execute("BEGIN")
        conn.executemany(sql, out)
        conn.execute("COMMIT")
        done += n
        bar.update(done)
    bar.close()
    load_s = time.perf_counter() - t0
    bar = Progress("indexes", len(indexes), enabled=progress)
    for k, ddl in enumerate(indexes, 1):
        conn.execute(ddl)
        bar.update(k)
    bar.close()
    # No ANALYZE: a user's capture has no statistics either, so the planner sees the same.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"rows": rows, "load_s": load_s, "total_s": time.perf_counter() - t0,
            "bytes": db.stat().st_size, "drift_from_row": shift_from if drift else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, required=True, help="store to append to (created if new)")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--days", type=float, default=28.0, help="time span ending now")
    p.add_argument("--drift", action="store_true", help="shift some routes' codes in the last day")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.rows < 1 or args.days <= 0:
        p.error("--rows must be >= 1 and --days > 0")
    r = generate(args.db, args.rows, days=args.days, drift=args.drift, seed=args.seed)
    print(f"{r['rows']} exchanges in {r['total_s']:.1f}s ({r['load_s']:.1f}s load), "
          f"{r['bytes'] / r['rows']:.0f} bytes/row, {args.db}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
