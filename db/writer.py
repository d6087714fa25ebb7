"""Batched inserts on one writer thread, fed by a bounded queue (never on the event loop).

Modelled on datasette's per-database writer thread: a queue, a sentinel, `flush()` for
tests and shutdown, a join with a timeout on close, and loud stderr when rows are at risk.
"""

from __future__ import annotations

import logging
import operator
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from dockdrift.db.models import Exchange
from dockdrift.db.overflow import refuse, taken

log = logging.getLogger("dockdrift.writer")

_STOP = object()


class _FlushMarker:
    def __init__(self) -> None:
        self.done = threading.Event()


class BatchWriter:
    """Queue rows (dicts of Exchange columns) and insert them in batches on a thread.

    A row is never dropped silently: while the store is unavailable rows wait (retried with
    backoff); past `max_queue` waiting rows new rows are refused, counted in `dropped`, and
    logged at ERROR with the count.
    """

    def __init__(self, engine: Engine, *, batch_size: int = 500, max_queue: int = 100_000,
                 retry_seconds: float = 0.5, on_error: Callable[[str], None] | None = None,
                 linger: float = 0.25):
        self.engine = engine
        self.batch_size = batch_size
        self.linger = linger  # seconds the thread waits for more rows before a write
        self._wake = threading.Event()
        self.retry_seconds = retry_seconds
        self.written = 0
        self.dropped = 0
        self.last_error: str | None = None
        self._on_error = on_error or (lambda msg: log.error(msg))
        # SimpleQueue: put and get are single C calls (queue.Queue takes a Python-level lock
        # and condition per call, on the event loop); the bound is checked in submit.
        self.max_queue = max_queue
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._insert = _sqlite_insert if engine.dialect.name == "sqlite" else _core_insert
        self._thread = threading.Thread(target=self._run, name="dockdrift-writer", daemon=True)
        self._closed = False
        self._overflowing = False
        self._thread.start()

    # -- producer side (event loop): must never block -----------------------------------
    def submit(self, row: dict[str, Any]) -> bool:
        if self._queue.qsize() >= self.max_queue:
            return refuse(self)
        self._queue.put(row)
        return taken(self)

    def pending(self) -> int:
        return self._queue.qsize()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until every row submitted before this call is committed (or timeout)."""
        if not self._thread.is_alive():
            return self._queue.empty()
        marker = _FlushMarker()
        self._queue.put(marker)  # never blocks: the bound applies to rows only
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued and stop the thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)  # never blocks; a locked store is bounded by join's timeout
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._on_error(f"dockdrift: writer did not finish within {timeout:.0f}s; "
                           f"{self._queue.qsize()} exchanges may not be recorded "
                           f"(last error: {self.last_error})")
        if self.dropped:
            self._on_error(f"dockdrift: {self.dropped} exchanges were NOT recorded "
                           f"({self.written} were); see the errors above")

    # -- writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if self.linger and isinstance(item, dict) and self._queue.qsize() < self.batch_size:
                # Let a batch gather: one transaction per row costs the proxy's process far
                # more CPU (same GIL) than the rows themselves (benchmarks/README.md).
                # flush() and close() cut the wait short.
                self._wake.wait(self.linger)
                self._wake.clear()
            batch: list[dict[str, Any]] = []
            markers: list[_FlushMarker] = []
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, _FlushMarker):
                    markers.append(item)
                else:
                    batch.append(item)
                if stopping or len(batch) >= self.batch_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch, give_up_after=60.0 if stopping else None)
            for m in markers:
                m.done.set()

    def _write(self, batch: list[dict[str, Any]], give_up_after: float | None) -> None:
        delay, started = self.retry_seconds, time.monotonic()
        while True:
            try:
                with self.engine.begin() as conn:
                    self._insert(conn, batch)
                self.written += len(batch)
                if self.last_error:
                    log.warning("dockdrift: store writable again; %d rows written", len(batch))
                    self.last_error = None
                return
            except SQLAlchemyError as exc:
                msg = str(getattr(exc, "orig", exc) or exc).splitlines()[0]
                if self.last_error != msg:
                    self._on_error(f"dockdrift: cannot write {len(batch)} exchanges to the store "
                                   f"({msg}); retrying, rows are kept in memory")
                self.last_error = msg
            if give_up_after is not None and time.monotonic() - started > give_up_after:
                self.dropped += len(batch)
                self._on_error(f"dockdrift: gave up writing {len(batch)} exchanges at shutdown "
                               f"({self.last_error})")
                return
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _core_insert(conn: Connection, batch: list[dict[str, Any]]) -> None:
    conn.execute(insert(Exchange), batch)


_COLUMNS = [c.name for c in Exchange.__table__.columns if c.name not in ("id", "started_at")]
_VALUES = operator.itemgetter(*_COLUMNS)
_SQLITE_INSERT = (f"INSERT INTO exchanges (started_at, {', '.join(_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})")


def _sqlite_insert(conn: Connection, batch: list[dict[str, Any]]) -> None:
    """The same INSERT straight to sqlite3's executemany with tuples: SQLAlchemy's per-row
    parameter processing was a fifth of the writer's time (benchmarks/README.md), and the
    writer shares the GIL with the proxy. started_at is written in SQLAlchemy's own SQLite
    format (`YYYY-MM-DD HH:MM:SS.ffffff`, microseconds always present), so reads and
    comparisons are unchanged."""
    try:
        rows = [(r["started_at"].isoformat(" ", "microseconds"), *_VALUES(r)) for r in batch]
    except (KeyError, AttributeError):  # rows not made by db.record.build_row: let Core fill in
        _core_insert(conn, batch)
        return
    conn.exec_driver_sql(_SQLITE_INSERT, rows)

