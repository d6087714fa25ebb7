"""Schema migrations: one function per step, applied in order, recorded in dockdrift_meta."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from db.models import SCHEMA_VERSION, Base, Meta

# Schema 0 is a capture written before dockdrift_meta existed: `exchanges` without the
# columns added since. Each entry: column name -> SQL type, added with ALTER TABLE.
_ADDED_COLUMNS_V1 = {
    "route_source": "VARCHAR(32)",
    "error_message": "VARCHAR(200)",
    "client": "VARCHAR(64)",
    "hijacked": "BOOLEAN DEFAULT 0",
    "server": "VARCHAR(128)",
    "user_agent": "VARCHAR(256)",
    "request_bytes": "INTEGER",
    "response_bytes": "INTEGER",
    "duration_ms": "FLOAT",
    "query": "TEXT",
}


def migrate(engine: Engine, from_version: int) -> None:
    """Bring an older store up to SCHEMA_VERSION in place."""
    if from_version < 1:
        _to_v1(engine)
    logging.getLogger("dockdrift").warning(
        "dockdrift: migrated %s in place from schema %d to %d",
        engine.url.render_as_string(hide_password=True), from_version, SCHEMA_VERSION)


def _to_v1(engine: Engine) -> None:
    have = {c["name"] for c in inspect(engine).get_columns("exchanges")}
    with engine.begin() as conn:
        for name, sqltype in _ADDED_COLUMNS_V1.items():
            if name not in have:
                conn.execute(text(f"ALTER TABLE exchanges ADD COLUMN {name} {sqltype}"))
    Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        s.merge(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
