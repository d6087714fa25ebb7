"""Typed SQLAlchemy 2.0 models. `exchanges` and its column names are a public contract."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dockdrift.db.basics import SCHEMA_VERSION as SCHEMA_VERSION  # lives where no SQLAlchemy is
# Partial indexes declared for SQLite only (sqlite_where); db.engine makes them on PostgreSQL
# as plain DDL, other databases go without.
SQLITE_ONLY_INDEXES = ("ix_exchanges_unknown", "ix_exchanges_failed", "ix_exchanges_denied",
                       "ix_exchanges_streams", "ix_exchanges_exits")
# Rows an allowlist refused (`denied`, never sent to the daemon, status 403 made by dockdrift)
# or, under `--enforce --dry-run`, would have refused (sent, the server's status kept, this
# prefix in `error`). The report lists both apart; only the first are no server codes.
DRY_RUN_PREFIX = "dry run: would be denied"
DENIED_OR_DRY_RUN = f"(denied = TRUE OR error LIKE '{DRY_RUN_PREFIX}%')"


class Base(DeclarativeBase):
    pass


class Exchange(Base):
    """One request/response exchange that passed the proxy (or failed on the proxy's side)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC; ix_exchanges_time_groups
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)  # raw request path, no query string
    query: Mapped[str | None] = mapped_column(Text)
    api_version: Mapped[str | None] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(128))
    handler: Mapped[str | None] = mapped_column(String(128))
    route_source: Mapped[str | None] = mapped_column(String(32))  # which table tagged it
    status_code: Mapped[int | None] = mapped_column(Integer)  # NULL: failed on the proxy side
    error: Mapped[str | None] = mapped_column(Text)  # proxy-side failure text
    error_message: Mapped[str | None] = mapped_column(String(200))  # server's error, capped
    duration_ms: Mapped[float | None] = mapped_column(Float)
    request_bytes: Mapped[int | None] = mapped_column(Integer)
    response_bytes: Mapped[int | None] = mapped_column(Integer)
    hijacked: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str | None] = mapped_column(String(256))
    server: Mapped[str | None] = mapped_column(String(128))  # upstream identity, e.g. Docker/20.10
    target: Mapped[str | None] = mapped_column(String(16))  # engine | swarm | podman
    client: Mapped[str | None] = mapped_column(String(64))  # peer address of the client
    # Schema 2. The implementation's own version as it reports it (20.10.24+dfsg1, 4.3.1,
    # 1.2.9 for swarm/1.2.9): an implementation is (target, target_version).
    target_version: Mapped[str | None] = mapped_column(String(64))
    probe_case: Mapped[str | None] = mapped_column(String(64))  # dockdrift probe; NULL: passive
    stream_error: Mapped[str | None] = mapped_column(String(200))  # first in-stream error, capped
    stream_error_count: Mapped[int | None] = mapped_column(Integer)
    exit_code: Mapped[int | None] = mapped_column(Integer)  # /wait StatusCode, exec ExitCode
    recorder: Mapped[str | None] = mapped_column(String(128))  # which recorder saw it
    # refused by an allowlist; a server default too, so plain SQL inserts need not name it
    denied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A stable identity across copies (`dockdrift import`): NULL for rows recorded here, whose
    # identity is "<store_id>:<id>" (dockdrift_meta.store_id); set on rows copied in.
    uid: Mapped[str | None] = mapped_column(String(64))
    # Schema 3. The upstream's API floor (/version's MinAPIVersion): the same Engine started
    # with DOCKER_MIN_API_VERSION=1.44 is another implementation (target, version, floor).
    min_api_version: Mapped[str | None] = mapped_column(String(16))
    # Body shapes (field paths and JSON types, never values): keys into `shapes`.
    request_shape: Mapped[str | None] = mapped_column(String(64))
    response_shape: Mapped[str | None] = mapped_column(String(64))
    # Who called: the client family and version read from the User-Agent by data rules
    # (docker-cli 28.2.2, docker-py 7.1.0, ...), and, where the kernel tells it (unix socket
    # SO_PEERCRED, loopback TCP via /proc), the process behind the connection: ids and names only.
    client_name: Mapped[str | None] = mapped_column(String(64))
    client_version: Mapped[str | None] = mapped_column(String(64))
    peer_pid: Mapped[int | None] = mapped_column(Integer)
    peer_uid: Mapped[int | None] = mapped_column(Integer)
    peer_process: Mapped[str | None] = mapped_column(String(128))  # comm, e.g. docker
    peer_exe: Mapped[str | None] = mapped_column(String(256))  # /proc/PID/exe, e.g. /usr/bin/docker

    # Both cover analysis.load's GROUP BY (no table lookups): the report's query reads the
    # first in group order (14x faster than table lookups at 1M rows), time windows read a
    # range of the second. The second also serves started_at alone (benchmarks/README.md).
    __table_args__ = (
        Index("ix_exchanges_groups", "target", "method", "route", "status_code", "handler",
              "api_version"),
        Index("ux_exchanges_uid", "uid", unique=True),
        # Who called (the report's clients section, analysis.clients brief): one index scan
        # instead of a sort of the whole table (17 s at 1M rows on a loaded machine).
        Index("ix_exchanges_clients", "client_name", "client_version", "peer_process",
              "api_version", "status_code", "started_at"),
        Index("ix_exchanges_time_groups", "started_at", "target", "method", "route",
              "status_code", "handler", "api_version"),
        # Partial indexes over the rare rows the report lists apart (unknown routes, proxy-side
        # failures), in the order of its GROUP BY and covering it: those queries read a few
        # thousand entries instead of the whole store (SQLite picks them without ANALYZE).
        # Declared for SQLite only (`postgresql_where` would import the PostgreSQL dialect on
        # every start); db.engine creates their PostgreSQL twins as plain DDL.
        Index("ix_exchanges_unknown", "target", "method", "status_code", "started_at", "path",
              sqlite_where=text("route IS NULL")).ddl_if(dialect="sqlite"),
        Index("ix_exchanges_failed", "target", "method", "route", "error", "started_at",
              sqlite_where=text("status_code IS NULL")).ddl_if(dialect="sqlite"),
        # The few answers with an outcome inside (analysis.outcomes): scanned streams and
        # /wait answers (stream_error_count set), and exit statuses.
        Index("ix_exchanges_streams", "target", "method", "route", "status_code",
              "stream_error_count", "stream_error", "started_at",
              sqlite_where=text("stream_error_count IS NOT NULL")).ddl_if(dialect="sqlite"),
        Index("ix_exchanges_exits", "target", "method", "route", "exit_code", "started_at",
              sqlite_where=text("exit_code IS NOT NULL")).ddl_if(dialect="sqlite"),
        # The allowlist's rows: the report's denied section and the denied rows it keeps out
        # of the server codes read this instead of the table (queries repeat the expression).
        Index("ix_exchanges_denied", "target", "method", "route", "status_code", "handler",
              "api_version", "started_at", "user_agent", "client", "denied",
              sqlite_where=text(DENIED_OR_DRY_RUN)).ddl_if(dialect="sqlite"),
    )


class Rollup(Base):
    """Counts of exchanges per day and group (`dockdrift rollup`): history kept after `prune`.

    A day may hold several rows of one group (counts of late rows are appended): read SUMs.
    `outcome` is NULL for a clean answer, `error in stream`, or `exit N` (the exit status).
    """

    __tablename__ = "exchange_rollups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[datetime] = mapped_column(DateTime)  # midnight UTC (naive)
    recorder: Mapped[str | None] = mapped_column(String(128))
    target: Mapped[str | None] = mapped_column(String(16))
    target_version: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(128))
    handler: Mapped[str | None] = mapped_column(String(128))
    api_version: Mapped[str | None] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)  # NULL: proxy-side failures
    outcome: Mapped[str | None] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(BigInteger)
    min_api_version: Mapped[str | None] = mapped_column(String(16))  # schema 3

    __table_args__ = (Index("ix_rollups_day", "day", "target", "method", "route"),)


class RollupDay(Base):
    """Which days the rollups hold, how many raw rows they counted, and whether those raw
    rows were pruned (then the rollups are the only record of that day)."""

    __tablename__ = "rollup_days"

    day: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    raw_rows: Mapped[int] = mapped_column(BigInteger)
    pruned: Mapped[bool] = mapped_column(Boolean, default=False)


class Shape(Base):
    """One distinct body shape: field paths with the JSON types seen at each, never a value.

    `shape` is JSON `{"<path>": ["<type>", ...]}` (paths like `.Config.Labels.*`, `[].Id`);
    `shape_hash` is a stable digest of it, so exchanges share one row per distinct shape.
    """

    __tablename__ = "shapes"

    shape_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    shape: Mapped[str] = mapped_column(Text)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)  # shaped up to a bound
    stream: Mapped[bool] = mapped_column(Boolean, default=False)  # union of NDJSON messages
    first_seen: Mapped[datetime | None] = mapped_column(DateTime)


class DocumentedCode(Base):
    """One documented status code of one route in one documented table.

    `absent` rows say the documentation lists the route as not existing (`n/a`):
    their status_code is NULL, and only a 404 is consistent with them.
    """

    __tablename__ = "documented_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # seed | spec | podman
    api_version: Mapped[str] = mapped_column(String(16))  # 1.22, 1.41, 1.55, 4.3.1 ...
    target: Mapped[str] = mapped_column(String(16))  # engine | swarm | podman
    method: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(String(128))
    handler: Mapped[str | None] = mapped_column(String(128))
    operation_id: Mapped[str | None] = mapped_column(String(128))
    status_code: Mapped[int | None] = mapped_column(Integer)
    absent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_documented_lookup", "source", "api_version", "target", "method", "route"),
    )


class DriftRun(Base):
    """One saved `dockdrift drift --save` run; findings as JSON text."""

    __tablename__ = "drift_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    baseline_start: Mapped[datetime | None] = mapped_column(DateTime)
    baseline_end: Mapped[datetime | None] = mapped_column(DateTime)
    current_start: Mapped[datetime | None] = mapped_column(DateTime)
    current_end: Mapped[datetime | None] = mapped_column(DateTime)
    n_findings: Mapped[int] = mapped_column(Integer)
    findings_json: Mapped[str] = mapped_column(Text)
    params_json: Mapped[str | None] = mapped_column(Text)
    dockdrift_version: Mapped[str | None] = mapped_column(String(32))  # schema 2


class Meta(Base):
    """Key/value facts about the store (schema version, documented-table digest)."""

    __tablename__ = "dockdrift_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
