"""The only `create_engine` call: URL handling, SQLite pragmas, schema checks, clear errors."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, Index, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session

from dockdrift.db.basics import DEFAULT_DB as DEFAULT_DB  # re-exported: the light names
from dockdrift.db.basics import SCHEMA_VERSION
from dockdrift.db.errors import StoreError
from dockdrift.db.models import Base, Meta
from dockdrift.db.schema import schema_lock, stored_version
STORE_ID_KEY = "store_id"  # names this store in the uid of its rows once copied elsewhere
BUSY_TIMEOUT_MS = 5000
# Indexes of earlier versions, replaced by the covering ones in db.models.
OBSOLETE_INDEXES = ("ix_exchanges_route_status", "ix_exchanges_time_route",
                    "ix_exchanges_started_at")


def to_url(db: str | os.PathLike[str] | None) -> str:
    """A path or a SQLAlchemy URL -> a SQLAlchemy URL string (default ./dockdrift.sqlite)."""
    db = os.fspath(db) if db else DEFAULT_DB
    if "://" in db:
        try:
            make_url(db)
        except ArgumentError:
            raise StoreError(f"bad database URL {db!r}: use a file path or a SQLAlchemy URL "
                             "such as sqlite:///capture.sqlite") from None
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _set_sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # read-only file: WAL cannot be switched on, reading still works
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _create_private_file(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask)."""
    if path.exists():
        return
    if not path.parent.is_dir():
        raise StoreError(f"cannot create database {path}: directory {path.parent} does not exist")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror}; "
                         "choose a writable path with --db / dockdrift_db") from None
    os.close(fd)


def _missing_driver(url: str, exc: ImportError) -> str:
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return ("the PostgreSQL driver is not installed: pip install 'dockdrift[postgres]' "
                "(psycopg 3), and use a postgresql+psycopg:// URL")
    return f"cannot open a {backend} database: its driver is missing ({exc})"


def server_hint(msg: str) -> str:
    """A database server's multi-line error -> one line that says what to do."""
    first = " ".join(msg.split("\n")[0].split())
    low = msg.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        return (f"{first}: check the user and the password (PGPASSWORD in the recorder's "
                "environment file, or ~/.pgpass); never put it on the command line")
    if "connection refused" in low or "could not connect" in low or "no such file" in low:
        return f"{first}: is the database server running, and are host and port right?"
    if "does not exist" in low and "database" in low:
        return f"{first}: create it first (createdb), or fix the database name in the URL"
    return first


def make_engine(db: str | os.PathLike[str] | None = None, *, create: bool = True,
                readonly: bool = False) -> Engine:
    """Open (and by default create and migrate) the store at a path or URL.

    Raises StoreError with a one-line, actionable message for every user mistake.
    """
    url = to_url(db)
    path = sqlite_path(url)
    if path is not None:
        if not create and not path.exists():
            raise StoreError(f"database {path} does not exist: record a capture first "
                             "(dockdrift capture / mitmdump -s addons/docker_recorder.py)")
        if create and not readonly:
            _create_private_file(path)
    try:
        # A server store may restart under a long-running recorder: check a pooled
        # connection before use (one round trip per checkout, not per row).
        engine = create_engine(url, pool_pre_ping=make_url(url).get_backend_name() != "sqlite")
    except ImportError as exc:
        raise StoreError(_missing_driver(url, exc)) from None
    except (ArgumentError, SQLAlchemyError) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise StoreError(f"cannot open database {shown!r}: {exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0]}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    try:
        ensure_schema(engine, create=create and not readonly, indexes=not readonly)
    except StoreError:
        engine.dispose()
        raise
    return engine


def open_existing(db: str | os.PathLike[str] | None, *, tables: bool = False) -> Engine:
    """Open a store that must already exist: what report, drift, matrix, allowlist, rollup,
    prune and import's sources read or tidy. A typo'd path, an empty file or an empty database
    is a StoreError ("no store at ..."), never a new, empty store a cron job reads forever.

    `tables`: also create this version's tables an older store lacks (rollup, prune write
    rollups; drift --save its runs). An older schema is migrated as make_engine does.
    """
    url = to_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise StoreError(f"no store at {path}: it does not exist; check --db, or record one "
                         "first (dockdrift capture / mitmdump -s addons/docker_recorder.py)")
    engine = make_engine(db, create=False)
    try:
        with engine.connect() as conn:
            has = "exchanges" in inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot read {_shown(engine)}: "
                         f"{server_hint(str(getattr(exc, 'orig', None) or exc))}") from None
    if not has:
        engine.dispose()
        raise StoreError(f"no store at {_shown(engine)}: it holds no dockdrift tables; check "
                         "--db (a capture, or a store a recorder writes to)")
    if tables:
        try:
            ensure_schema(engine, create=True)
        except StoreError:
            engine.dispose()
            raise
    return engine


def _shown(engine: Engine) -> str:
    path = sqlite_path(str(engine.url))
    return str(path) if path is not None else engine.url.render_as_string(hide_password=True)


def ensure_schema(engine: Engine, *, create: bool = True, indexes: bool | None = None) -> None:
    """Create the tables in a new store; refuse corrupt, foreign or newer stores clearly.

    `indexes` (default: `create`) also brings an existing store's indexes up to db.models.
    """
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA schema_version")).scalar()
            tables = set(inspect(conn).get_table_names())
    except DatabaseError as exc:
        msg = str(exc.orig) if getattr(exc, "orig", None) else str(exc)
        if "not a database" in msg or "malformed" in msg:
            raise StoreError(f"{where} is not a readable SQLite database ({msg}): "
                             "point --db at a dockdrift capture or a new file") from None
        if isinstance(exc, OperationalError) and "locked" in msg:
            raise StoreError(f"{where} is locked by another process for more than "
                             f"{BUSY_TIMEOUT_MS // 1000}s: retry, or stop the other writer") from None
        raise StoreError(f"cannot open {where}: {server_hint(msg)}") from None
    ours = {t.name for t in Base.metadata.sorted_tables}
    if tables and "exchanges" not in tables:
        raise StoreError(f"{where} is not a dockdrift database (tables: "
                         f"{', '.join(sorted(tables)[:5])}): use a new file for --db")
    if "exchanges" in tables:
        _check_version(engine, where, tables)
        if create if indexes is None else indexes:
            update_indexes(engine)
    if create and not ours <= tables:
        _create_schema(engine, where)


def _create_schema(engine: Engine, where: str, attempts: int = 5) -> None:
    """Create the tables and the store's facts once, also when several recorders open one new
    store at the same moment (a fleet's first start): on PostgreSQL under an advisory lock,
    on SQLite in one IMMEDIATE transaction (and by trying again if another process won)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                schema_lock(conn)
                Base.metadata.create_all(conn)
                if engine.dialect.name == "postgresql":
                    for ddl in postgresql_partial_indexes():
                        conn.execute(text(ddl))
                with Session(bind=conn) as s:
                    if s.get(Meta, "schema_version") is None:
                        s.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                    if s.get(Meta, STORE_ID_KEY) is None:
                        s.add(Meta(key=STORE_ID_KEY, value=uuid.uuid4().hex))
                    s.flush()
            return
        except (OperationalError, IntegrityError, ProgrammingError) as exc:
            msg = str(getattr(exc, "orig", exc))
            raced = ("already exists" in msg or "duplicate" in msg.lower()
                     or "UNIQUE constraint" in msg or "locked" in msg)
            if raced and attempt < attempts - 1:
                time.sleep(0.1 * (attempt + 1))
                continue
            raise StoreError(f"cannot write to {where}: {msg.splitlines()[0]}; "
                             "check the file and directory permissions") from None


def partial_index_ddl(index: Index) -> str:
    """The PostgreSQL twin of one of db.models' SQLite partial indexes, as plain DDL: declaring
    `postgresql_where` in the model would import the PostgreSQL dialect on every start. The
    same rare rows (unknown routes, proxy failures, outcomes, denials): without them each of
    the report's side queries is a full scan of the table on PostgreSQL."""
    cols = ", ".join(c.name for c in index.columns)
    where = index.dialect_options["sqlite"]["where"]
    return f"CREATE INDEX IF NOT EXISTS {index.name} ON exchanges ({cols}) WHERE {where}"


def postgresql_partial_indexes() -> list[str]:
    from dockdrift.db.models import SQLITE_ONLY_INDEXES, Exchange

    return [partial_index_ddl(i) for i in cast(Table, Exchange.__table__).indexes
            if i.name in SQLITE_ONLY_INDEXES]


def update_indexes(engine: Engine) -> list[str]:
    """Create the model's missing indexes on `exchanges` and drop obsolete ones; returns the
    names changed. `create_all` skips existing tables, so a store recorded by an older version
    keeps its old indexes otherwise. Cheap when up to date (one index list); the first run on a
    large store builds the index once. A read-only or busy store is left as it is: the queries
    work without the new indexes, only slower.
    """
    from dockdrift.db.models import SQLITE_ONLY_INDEXES, Exchange

    postgresql = engine.dialect.name == "postgresql"
    partial = postgresql or engine.dialect.name == "sqlite"  # both have partial indexes
    wanted = [i for i in cast(Table, Exchange.__table__).indexes
              if partial or i.name not in SQLITE_ONLY_INDEXES]
    try:
        with engine.connect() as conn:
            have = {i["name"] for i in inspect(conn).get_indexes("exchanges")}
        changed = [i.name for i in wanted if i.name not in have]
        changed += [name for name in OBSOLETE_INDEXES if name in have]
        if not changed:
            return []
        with engine.begin() as conn:  # under the schema lock: recorders upgraded together
            schema_lock(conn)         # would otherwise create the same index at once
            have = {i["name"] for i in inspect(conn).get_indexes("exchanges")}
            for index in wanted:
                if index.name not in have:
                    if postgresql and index.name in SQLITE_ONLY_INDEXES:
                        conn.execute(text(partial_index_ddl(index)))
                    else:
                        index.create(conn, checkfirst=True)
            for name in OBSOLETE_INDEXES:
                if name in have:
                    conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    except OperationalError:
        return []
    return changed


def _check_version(engine: Engine, where: str, tables: set[str]) -> None:
    with engine.connect() as conn:
        version = stored_version(conn, tables)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{where} was written by a newer dockdrift (schema {version}, this one "
                         f"reads {SCHEMA_VERSION}): upgrade dockdrift")
    if version < SCHEMA_VERSION:
        from dockdrift.db.migrate import migrate  # rare path: keep it out of start-up

        migrate(engine, version)
