"""The schema version a store says it has, and the lock that serialises changing it.

Below both db.engine (which creates and checks stores) and db.migrate (which upgrades them),
so neither imports the other back.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select, text

from dockdrift.db.models import Meta

# Any fixed number: PostgreSQL's advisory lock that serialises dockdrift's schema creation.
_SCHEMA_LOCK = 0x646F636B


def schema_lock(conn: Connection) -> None:
    """Take the lock that serialises schema changes, for the rest of `conn`'s transaction:
    PostgreSQL's advisory lock; on SQLite, the write lock with all the DDL in this one
    transaction (another process sees the old schema or the whole new one; pysqlite would
    commit each statement on its own otherwise). Call first in the transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def stored_version(conn: Connection, tables: set[str] | None = None) -> int:
    """The schema version a store says it has (0: written before dockdrift_meta existed)."""
    if "dockdrift_meta" not in (tables if tables is not None
                                else set(inspect(conn).get_table_names())):
        return 0
    value = conn.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    return int(value) if value and value.isdigit() else 0
