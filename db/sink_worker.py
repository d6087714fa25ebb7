"""The writer process: exchanges in (over stdin), rows and shapes into the store.

Started by db.sink.ProcessWriter (`python -m dockdrift.db.sink_worker`), so the proxy's
interpreter never builds a row, parses a body or runs an INSERT. Frames are a 4-byte length
and a pickle, both ways: a config dict, then lists of items in; ("ready",) or ("error", msg),
then ("ack", seq, written, dropped, last_error) after each commit, out.

Exactly once: each batch's transaction also stores the last sequence number it holds under
`dockdrift_meta` key `writer:<session>`; a writer restarted after a crash reads it and skips
what was committed already (the proxy resends everything not acknowledged). It ignores SIGINT
and SIGTERM: it stops when its input ends (STOP, or the proxy gone), after writing what it has.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import struct
import sys
import threading
import time
from typing import Any, BinaryIO

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from dockdrift.db.engine import StoreError, make_engine
from dockdrift.db.extract import Context, Exchange, Pipeline
from dockdrift.db.record import utc_from_timestamp
from dockdrift.db.shapes import Shape
from dockdrift.db.writer import _core_insert, _sqlite_insert

log = logging.getLogger("dockdrift.writer")
_LEN = struct.Struct(">I")
_SHAPES_SQL = text("INSERT INTO shapes (shape_hash, shape, truncated, stream, first_seen) "
                   "VALUES (:h, :s, :t, :st, :f) ON CONFLICT (shape_hash) DO NOTHING")
_SEQ_SQL = text("INSERT INTO dockdrift_meta (key, value) VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def read_frame(f: BinaryIO) -> Any:
    head = f.read(4)
    if len(head) < 4:
        return None
    (n,) = _LEN.unpack(head)
    data = f.read(n)
    return pickle.loads(data) if len(data) == n else None


def write_frame(f: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=5)
    f.write(_LEN.pack(len(data)) + data)
    f.flush()


class Worker:
    def __init__(self, cfg: dict, out: BinaryIO) -> None:
        self.engine = make_engine(cfg["url"])
        self.batch_size = cfg.get("batch_size", 500)
        self.linger = cfg.get("linger", 0.25)
        self.retry_seconds = cfg.get("retry_seconds", 0.5)
        self.key = f"writer:{cfg['session']}"
        self.pipeline = Pipeline(Context(shapes_on=cfg.get("shapes", True)))
        self.insert = _sqlite_insert if self.engine.dialect.name == "sqlite" else _core_insert
        self.out = out
        self.last_error: str | None = None
        with self.engine.connect() as conn:
            got = conn.execute(text("SELECT value FROM dockdrift_meta WHERE key = :k"),
                               {"k": self.key}).scalar()
        self.seen = int(got) if got else 0  # records up to here are in the store already
        self.rows: list[dict[str, Any]] = []
        self.since = 0.0
        self.last_seq = self.seen

    def handle(self, items: list) -> tuple[bool, bool]:
        """Apply one frame's items; (flush now, stop)."""
        flush = stop = False
        for item in items:
            tag = item[0]
            if tag == "b":
                self.pipeline.feed(item[1], item[2], item[3], item[4])
            elif tag == "r":
                seq = item[1]
                if seq <= self.seen:
                    self.pipeline.flows.pop(item[2][0], None)
                    continue  # committed before a restart, or sent twice
                self.seen = seq
                if not self.rows:
                    self.since = time.monotonic()  # the batch's age decides when to write
                self.rows.append(self.pipeline.finish(Exchange(seq, *item[2])))
                self.last_seq = seq
            elif tag == "i":
                self.pipeline.ctx.tracker._set(item[1], quiet=True)
            elif tag == "f":
                flush = True
            elif tag == "s":
                stop = True
        return flush, stop

    def write(self, stopping: bool) -> None:
        """Commit the pending rows (retried while the store is unavailable), then ack."""
        rows, seq, shapes = self.rows, self.last_seq, self.pipeline.ctx.shapes.take()
        delay, started = self.retry_seconds, time.monotonic()
        while True:
            try:
                with self.engine.begin() as conn:
                    self._insert(conn, rows, shapes, seq)
                if self.last_error:
                    log.warning("dockdrift: store writable again; %d rows written", len(rows))
                    self.last_error = None
                self._ack(seq, len(rows), 0)
                break
            except SQLAlchemyError as exc:
                msg = str(getattr(exc, "orig", exc) or exc).splitlines()[0]
                if self.last_error != msg:
                    log.error("dockdrift: cannot write %d exchanges to the store (%s); "
                              "retrying, rows are kept in memory", len(rows), msg)
                self.last_error = msg
                self._ack(None, 0, 0)  # tell the proxy why rows wait
            if stopping and time.monotonic() - started > 60.0:
                log.error("dockdrift: gave up writing %d exchanges at shutdown (%s)",
                          len(rows), self.last_error)
                self._ack(seq, 0, len(rows))
                break
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        self.rows = []

    def _insert(self, conn: Connection, rows: list[dict[str, Any]], shapes: dict[str, Shape],
                seq: int) -> None:
        if shapes:
            now = utc_from_timestamp(time.time())
            conn.execute(_SHAPES_SQL, [{"h": h, "s": s.to_json(), "t": s.truncated,
                                        "st": s.stream, "f": now} for h, s in shapes.items()])
        if rows:
            self.insert(conn, rows)
        conn.execute(_SEQ_SQL, {"k": self.key, "v": str(seq)})

    def _ack(self, seq: int | None, written: int, dropped: int) -> None:
        write_frame(self.out, ("ack", seq, written, dropped, self.last_error))

    def forget_session(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(text("DELETE FROM dockdrift_meta WHERE key = :k"), {"k": self.key})
        except SQLAlchemyError:
            pass  # a leftover key is harmless: the next session has another name


def serve(inp: BinaryIO, out: BinaryIO) -> int:
    cfg = read_frame(inp)
    if cfg is None:
        return 2
    try:
        worker = Worker(cfg, out)
    except (StoreError, SQLAlchemyError) as exc:
        write_frame(out, ("error", str(getattr(exc, "orig", exc) or exc).splitlines()[0]))
        return 2
    write_frame(out, ("ready",))
    frames: queue.Queue[Any] = queue.Queue(maxsize=64)  # bounded: a stuck store blocks the pipe

    def reader() -> None:
        while (frame := read_frame(inp)) is not None:
            frames.put(frame)
        frames.put(None)

    threading.Thread(target=reader, daemon=True, name="dockdrift-sink-reader").start()
    clean = False
    while True:
        wait = None if not worker.rows else max(0.0, worker.since + worker.linger
                                                - time.monotonic())
        try:
            frame = frames.get(timeout=wait)
        except queue.Empty:
            worker.write(stopping=False)
            continue
        if frame is None:  # the proxy went away: write what there is
            break
        flush, stop = worker.handle(frame)
        while not stop and len(worker.rows) < worker.batch_size:
            try:
                more = frames.get_nowait()
            except queue.Empty:
                break
            if more is None:
                stop = True
                break
            f2, stop = worker.handle(more)
            flush = flush or f2
        if worker.rows and (flush or stop or len(worker.rows) >= worker.batch_size
                            or time.monotonic() - worker.since >= worker.linger):
            worker.write(stopping=stop)
        elif flush:
            worker._ack(worker.last_seq, 0, 0)
        if stop:
            clean = True
            break
    if worker.rows:
        worker.write(stopping=True)
    if clean:
        worker.forget_session()
    # Close the store before saying goodbye: SQLite folds its WAL into the database file when
    # the last connection closes, so the capture is whole in one file (a copy of the .sqlite
    # alone holds every row) once the proxy reports it stopped; os._exit below would skip it.
    worker.engine.dispose()
    if clean:
        write_frame(out, ("bye",))
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the frame channel
    try:
        return serve(inp, out)
    except BrokenPipeError:
        return 1
    finally:
        os.close(0)


if __name__ == "__main__":
    code = main()
    # The reader thread may still be blocked reading stdin (the proxy closes its end after
    # "bye"): finalising the interpreter would then abort on stdin's lock ("Fatal Python error:
    # _enter_buffered_busy"), printed into the capture's stderr. Everything is written and
    # acknowledged by now, so leave without finalising.
    sys.stderr.flush()
    os._exit(code)
