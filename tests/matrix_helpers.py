"""A ten-row literal store for the matrix tests: two implementations, written through the models.

What it holds and what the matrix must say about it:
1-2. passive GET /containers/{name:.*}/json: engine 20.10 answers 404 twice, podman 404 once
     -> agree (counts differ, code sets do not).
3-4. case run-exit-3, POST /containers/{name:.*}/wait: both 200, the engine reports exit 3,
     podman exit 0 -> differ (exit_codes).
5-6. case attach, POST /containers/{name:.*}/attach: engine 101, podman 200 with an error in
     the stream -> differ (codes, stream_errors).
7.   passive GET /info: engine 200 ...
8.   ... podman's was refused by an allowlist (denied, 403): not a server code -> only_in engine.
9.   passive GET /version from podman failed on the proxy (status NULL): no row, counted apart.
10.  case run-exit-3#setup, POST /containers/create 201 on the engine: a setup request, left
     out unless --include-setup (then an only_in row).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange

T0 = datetime(2026, 11, 30, 12, 0, 0)
ENGINE = ("engine", "20.10.24+dfsg1")
PODMAN = ("podman", "4.3.1")
E, P = "engine 20.10.24+dfsg1", "podman 4.3.1"

# (implementation, method, route, case, status, exit_code, stream_error, denied, count)
ROWS: list[tuple] = [
    (ENGINE, "GET", "/containers/{name:.*}/json", None, 404, None, None, False, 2),
    (PODMAN, "GET", "/containers/{name:.*}/json", None, 404, None, None, False, 1),
    (ENGINE, "POST", "/containers/{name:.*}/wait", "run-exit-3", 200, 3, None, False, 1),
    (PODMAN, "POST", "/containers/{name:.*}/wait", "run-exit-3", 200, 0, None, False, 1),
    (ENGINE, "POST", "/containers/{name:.*}/attach", "attach", 101, None, None, False, 1),
    (PODMAN, "POST", "/containers/{name:.*}/attach", "attach", 200, None, "unexpected EOF",
     False, 1),
    (ENGINE, "GET", "/info", None, 200, None, None, False, 1),
    (PODMAN, "GET", "/info", None, 403, None, None, True, 1),
    (PODMAN, "GET", "/version", None, None, None, None, False, 1),
    (ENGINE, "POST", "/containers/create", "run-exit-3#setup", 201, None, None, False, 1),
]


def exchange_dicts(rows: list[tuple] = ROWS, t0: datetime = T0) -> list[dict]:
    """One dict per exchange (rows repeated `count` times), a minute apart."""
    out, i = [], 0
    for (target, version), method, route, case, status, exit_code, err, denied, n in rows:
        for _ in range(n):
            out.append({"started_at": t0 + timedelta(minutes=i), "method": method,
                        "path": "/v1.41" + route.replace("{name:.*}", "c1"), "api_version": "1.41",
                        "route": route, "route_source": "seed-v1.22", "status_code": status,
                        "error": "connection refused" if status is None else None,
                        "target": target, "target_version": version, "probe_case": case,
                        "exit_code": exit_code, "stream_error": err,
                        "stream_error_count": 1 if err else None, "denied": denied,
                        "hijacked": status == 101})
            i += 1
    return out


def write_store(path: Path, rows: list[tuple] = ROWS, t0: datetime = T0) -> Path:
    engine = make_engine(path)
    with Session(engine) as s, s.begin():
        s.execute(insert(Exchange), exchange_dicts(rows, t0))
    engine.dispose()
    return path
