"""Schema migrations: one function per step, applied in order, recorded in dockdrift_meta."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.orm import Session

from dockdrift.db.models import SCHEMA_VERSION, Base, Meta
from dockdrift.db.schema import schema_lock, stored_version

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


# Schema 2: implementations (target_version), probe cases, outcomes inside 200 answers,
# recorder names, allowlist denials; drift runs say which dockdrift made them.
_ADDED_COLUMNS_V2 = {
    "exchanges": {
        "target_version": "VARCHAR(64)",
        "probe_case": "VARCHAR(64)",
        "stream_error": "VARCHAR(200)",
        "stream_error_count": "INTEGER",
        "exit_code": "INTEGER",
        "recorder": "VARCHAR(128)",
        "denied": "BOOLEAN DEFAULT FALSE",
        "uid": "VARCHAR(64)",
    },
    "drift_runs": {"dockdrift_version": "VARCHAR(32)"},
}


# Schema 3: the implementation's API floor, body shapes (keys into the new `shapes` table,
# made by create_all) and who called (client from the User-Agent, the peer process).
_ADDED_COLUMNS_V3 = {
    "exchanges": {
        "min_api_version": "VARCHAR(16)",
        "request_shape": "VARCHAR(64)",
        "response_shape": "VARCHAR(64)",
        "client_name": "VARCHAR(64)",
        "client_version": "VARCHAR(64)",
        "peer_pid": "INTEGER",
        "peer_uid": "INTEGER",
        "peer_process": "VARCHAR(128)",
        "peer_exe": "VARCHAR(256)",
    },
    "exchange_rollups": {"min_api_version": "VARCHAR(16)"},
}


def migrate(engine: Engine, from_version: int) -> None:
    """Bring an older store up to SCHEMA_VERSION in place, once, whoever else opens it.

    A fleet upgraded at once restarts its recorders on the old store together: all the steps
    run in one transaction under db.engine's schema lock (a PostgreSQL advisory lock, SQLite's
    IMMEDIATE write lock), and the version is read again inside it, so one process migrates
    and the others find the work done (without this, they ran the same ALTER TABLE twice).
    """
    with engine.begin() as conn:
        schema_lock(conn)
        version = stored_version(conn)
        if version >= SCHEMA_VERSION:
            return  # another process migrated it while this one waited
        if version < 1:
            _to_v1(conn)
        if version < 2:
            _add_columns(conn, _ADDED_COLUMNS_V2)
        if version < 3:
            _add_columns(conn, _ADDED_COLUMNS_V3)
        Base.metadata.create_all(conn)
        with Session(bind=conn) as s:
            s.merge(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
            s.flush()
    logging.getLogger("dockdrift").warning(
        "dockdrift: migrated %s in place from schema %d to %d",
        engine.url.render_as_string(hide_password=True), from_version, SCHEMA_VERSION)


def _to_v1(conn: Connection) -> None:
    have = {c["name"] for c in inspect(conn).get_columns("exchanges")}
    for name, sqltype in _ADDED_COLUMNS_V1.items():
        if name not in have:
            conn.execute(text(f"ALTER TABLE exchanges ADD COLUMN {name} {sqltype}"))


def _add_columns(conn: Connection, added: dict[str, dict[str, str]]) -> None:
    tables = set(inspect(conn).get_table_names())
    for table, columns in added.items():
        if table not in tables:
            continue  # created whole by create_all
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for name, sqltype in columns.items():
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sqltype}"))
