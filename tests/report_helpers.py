"""A small literal capture for the report tests, written through the models into real SQLite.

What it holds and why (the expected findings are written out in the tests):
- engine GET /containers/{name:.*}/json 200×3, 404×1: documented everywhere; 500 never seen.
- engine POST /containers/{name:.*}/wait 200 at API 1.41 ×2 and at API 1.24 ×1: the source
  document (v1.22) says 204, the OpenAPI tables say 200 -> undocumented only against seed.
- engine POST /containers/{name:.*}/start 304: documented in the Docker column.
- engine GET /images/viz 404: the Docker column says n/a (absent) -> consistent with 404.
- engine GET /containers/ps 200: n/a for Docker -> a 200 contradicts "absent".
- engine HEAD /_ping 200 with no API version: tagged from the spec table; the seed lists only GET.
- engine GET /volumes/{volumename:.*} 404: seed template; the spec names it {name:.*}.
- engine GET /v1.41/nope 404: no table knows it (route NULL).
- engine GET /containers/json with no status: a proxy-side failure.
- swarm GET /containers/{name:.*}/json 200×2, 500×1; swarm POST .../start 304 (Swarm column:
  204 404 500 -> undocumented).
- target NULL GET /info 200: reported as target "unknown", compared with the Docker column.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange

T0 = datetime(2026, 11, 20, 12, 0, 0)

# (target, method, path, api_version, route, route_source, status, count, error)
ROWS: list[tuple] = [
    ("engine", "GET", "/v1.41/containers/web/json", "1.41", "/containers/{name:.*}/json",
     "seed-v1.22", 200, 3, None),
    ("engine", "GET", "/v1.41/containers/gone/json", "1.41", "/containers/{name:.*}/json",
     "seed-v1.22", 404, 1, None),
    ("engine", "POST", "/v1.41/containers/web/wait", "1.41", "/containers/{name:.*}/wait",
     "seed-v1.22", 200, 2, None),
    ("engine", "POST", "/v1.24/containers/web/wait", "1.24", "/containers/{name:.*}/wait",
     "seed-v1.22", 200, 1, None),
    ("engine", "POST", "/v1.41/containers/web/start", "1.41", "/containers/{name:.*}/start",
     "seed-v1.22", 304, 1, None),
    ("engine", "GET", "/v1.41/images/viz", "1.41", "/images/viz", "seed-v1.22", 404, 1, None),
    ("engine", "GET", "/v1.41/containers/ps", "1.41", "/containers/ps", "seed-v1.22", 200, 1,
     None),
    ("engine", "HEAD", "/_ping", None, "/_ping", "spec-v1.55", 200, 1, None),
    ("engine", "GET", "/v1.41/volumes/data", "1.41", "/volumes/{volumename:.*}", "seed-v1.22",
     404, 1, None),
    ("engine", "GET", "/v1.41/nope", "1.41", None, None, 404, 1, None),
    ("engine", "GET", "/v1.41/containers/json", "1.41", "/containers/json", "seed-v1.22",
     None, 1, "connection refused"),
    ("swarm", "GET", "/v1.22/containers/web/json", "1.22", "/containers/{name:.*}/json",
     "seed-v1.22", 200, 2, None),
    ("swarm", "GET", "/v1.22/containers/web/json", "1.22", "/containers/{name:.*}/json",
     "seed-v1.22", 500, 1, None),
    ("swarm", "POST", "/v1.22/containers/web/start", "1.22", "/containers/{name:.*}/start",
     "seed-v1.22", 304, 1, None),
    (None, "GET", "/v1.41/info", "1.41", "/info", "seed-v1.22", 200, 1, None),
]

HANDLERS = {"/containers/{name:.*}/json": "getContainerJSON",
            "/containers/{name:.*}/wait": "proxyContainerAndForceRefresh",
            "/containers/{name:.*}/start": "postContainersStart"}


def exchange_dicts(rows: list[tuple] = ROWS, t0: datetime = T0) -> list[dict]:
    """One dict per exchange (rows repeated `count` times), a minute apart."""
    out, i = [], 0
    for target, method, path, api, route, source, status, count, error in rows:
        for _ in range(count):
            out.append({"started_at": t0 + timedelta(minutes=i), "method": method, "path": path,
                        "api_version": api, "route": route, "handler": HANDLERS.get(route or ""),
                        "route_source": source, "status_code": status, "error": error,
                        "target": target, "hijacked": False,
                        # the implementation rows' Podman is 4.3.1 (its table is per release)
                        "target_version": "4.3.1" if target == "podman" else None})
            i += 1
    return out


def write_capture(path: Path, rows: list[tuple] = ROWS, t0: datetime = T0) -> Path:
    """A dockdrift store at `path` holding `rows`; returns the path."""
    engine = make_engine(path)
    with Session(engine) as s, s.begin():
        s.execute(insert(Exchange), exchange_dicts(rows, t0))
    engine.dispose()
    return path


# Implementations side by side, for `--against own` and `--against podman` (expected findings in
# tests/test_compare.py and tests/test_report_cli.py):
# - podman GET /containers/{name:.*}/json 200×2: Podman's /containers/{name}/json says 200 404 500.
# - podman GET /libpod/info 200 (tagged from Podman's table): documented by Podman only.
# - podman POST /containers/{name:.*}/update 404: Podman registers no compat update route, so
#   its table does not list it ("not in table"); the Engine documents 200 404 500.
# - podman HEAD /_ping 200: Podman registers it with no swagger block, so it documents nothing.
# - engine GET /containers/{name:.*}/json 200 at API 1.45: spec-v1.45 under `own`.
# - swarm POST /containers/{name:.*}/start 304: the Swarm column (204 404 500) under `own`.
# - target NULL GET /info 200: `own` compares it as `seed` does (Docker column: 200 500).
IMPLEMENTATION_ROWS: list[tuple] = [
    ("podman", "GET", "/v1.41/containers/web/json", "1.41", "/containers/{name:.*}/json",
     "seed-v1.22", 200, 2, None),
    ("podman", "GET", "/v4.3.1/libpod/info", "4.3.1", "/libpod/info", "podman-v4.3.1", 200, 1,
     None),
    ("podman", "POST", "/v1.41/containers/web/update", "1.41", "/containers/{name:.*}/update",
     "spec-v1.55", 404, 1, None),
    ("podman", "HEAD", "/_ping", None, "/_ping", "spec-v1.55", 200, 1, None),
    ("engine", "GET", "/v1.45/containers/web/json", "1.45", "/containers/{name:.*}/json",
     "seed-v1.22", 200, 1, None),
    ("swarm", "POST", "/v1.22/containers/web/start", "1.22", "/containers/{name:.*}/start",
     "seed-v1.22", 304, 1, None),
    (None, "GET", "/v1.41/info", "1.41", "/info", "seed-v1.22", 200, 1, None),
]
