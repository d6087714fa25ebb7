"""Load the documented tables (db/data) into `documented_codes`, so comparisons are SQL joins."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, delete, insert
from sqlalchemy.orm import Session

from dockdrift.db import podman_tables, tables
from dockdrift.db.models import DocumentedCode, Meta

_DIGEST_KEY = "documented_digest"


def documented_rows() -> list[dict[str, object]]:
    """One dict per (table, target, route, code); `absent` rows for routes documented as n/a."""
    rows: list[dict[str, object]] = []

    def add(row: tables.RouteRow, target: str, codes: tuple[int, ...] | None, absent: bool) -> None:
        base = {"source": row.source, "api_version": row.api_version, "target": target,
                "method": row.method, "route": row.route, "handler": row.handler,
                "operation_id": row.operation_id}
        if absent:
            rows.append({**base, "status_code": None, "absent": True})
        for code in codes or ():
            rows.append({**base, "status_code": code, "absent": False})

    for r in tables.read_seed():
        add(r, "swarm", r.swarm_codes, False)
        add(r, "engine", r.engine_codes, r.engine_absent)
    for version in tables.spec_files():
        for r in tables.read_spec(version):
            add(r, "engine", r.engine_codes, False)
    for version in podman_tables.podman_files():
        rows += podman_rows(version)
    return rows


def podman_rows(version: str) -> list[dict[str, object]]:
    """Podman's documented codes: target and source `podman`, api_version the Podman release.
    Rows without codes (no swagger block, the `*` catch-alls) document nothing, as in the specs."""
    return [{"source": "podman", "api_version": version, "target": "podman", "method": r.method,
             "route": r.route, "handler": r.handler, "operation_id": r.operation_id,
             "status_code": code, "absent": False}
            for r in podman_tables.read_podman(version) for code in r.codes or ()]


def data_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(tables.DATA_DIR.glob("*.csv")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def sync_documented(engine: Engine, *, force: bool = False) -> bool:
    """Reload documented_codes when the data files changed; returns True if it reloaded."""
    digest = data_digest()
    with Session(engine) as s, s.begin():
        current = s.get(Meta, _DIGEST_KEY)
        if current is not None and current.value == digest and not force:
            return False
        s.execute(delete(DocumentedCode))
        s.execute(insert(DocumentedCode), documented_rows())
        s.merge(Meta(key=_DIGEST_KEY, value=digest))
    return True
