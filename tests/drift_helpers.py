"""Synthetic captures for the drift tests: exchanges inserted directly with chosen times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange

NOW = datetime(2026, 11, 26, 12, 0, 0)
INSPECT = ("GET", "/containers/{name:.*}/json")
PING = ("GET", "/_ping")
CREATE = ("POST", "/containers/create")


def add_exchanges(db: Path, route: tuple[str, str], codes: dict[int | None, int],
                  start: datetime, end: datetime, target: str = "engine",
                  seed: int = 0) -> None:
    """Insert codes[code] exchanges of one route, spread randomly between start and end."""
    rng = np.random.default_rng(seed)
    engine = make_engine(db)
    rows = []
    span = (end - start).total_seconds()
    for code, n in codes.items():
        for off in rng.uniform(0, span, n):
            rows.append({"started_at": start + timedelta(seconds=float(off)), "method": route[0],
                         "path": "/v1.41" + route[1].replace("{name:.*}", "c1"),
                         "api_version": "1.41", "route": route[1], "status_code": code,
                         "error": None if code else "connection refused", "target": target,
                         "hijacked": False})
    with engine.begin() as conn:
        conn.execute(insert(Exchange), rows)
    engine.dispose()


def capture(db: Path, shifted: bool, seed: int = 1) -> Path:
    """8 days: baseline 8d..1d and current 1d..now; `shifted` raises inspect 404s 10% -> 55%."""
    b0, b1, c0 = NOW - timedelta(days=8), NOW - timedelta(days=1), NOW - timedelta(days=1)
    add_exchanges(db, INSPECT, {200: 900, 404: 100}, b0, b1, seed=seed)
    add_exchanges(db, PING, {200: 2000, None: 7}, b0, b1, seed=seed + 1)
    add_exchanges(db, CREATE, {201: 400, 409: 40}, b0, b1, seed=seed + 2)
    inspect_now = {200: 135, 404: 165} if shifted else {200: 270, 404: 30}
    add_exchanges(db, INSPECT, inspect_now, c0, NOW, seed=seed + 3)
    add_exchanges(db, PING, {200: 300, None: 2}, c0, NOW, seed=seed + 4)
    add_exchanges(db, CREATE, {201: 60, 409: 6}, c0, NOW, seed=seed + 5)
    return db
