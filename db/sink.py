"""The proxy's side of the writer process: hand records over, never block, lose nothing.

The hooks call `submit` (a finished exchange, a tuple) and `block` (bytes of a body an
extractor reads); both are one C-level queue put on the event loop. A sender thread pickles
what is queued and writes it to the writer process's stdin (db.sink_worker); a reader thread
takes its acknowledgements. Until a record's commit is acknowledged it stays here (at most
`max_queue`; past that, new ones are refused, counted and logged, as db.writer does): a writer
process that dies is started again and gets every unacknowledged record again, and skips
those its predecessor had committed (exactly once). Body blocks are not kept: an exchange
whose writer died mid-body is stored without the parts derived from that body.

Standard library only: the proxy process never imports SQLAlchemy.
"""

from __future__ import annotations

import collections
import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from dockdrift.db.overflow import refuse, taken

log = logging.getLogger("dockdrift.writer")
_LEN = struct.Struct(">I")
_STOP, _WAKE, _FLUSH = ("s",), ("w",), ("f",)
MAX_QUEUED_BYTES = 16 << 20  # body bytes waiting for the writer before blocks are refused
FRAME_ITEMS = 1000


class SinkError(RuntimeError):
    """The writer process could not open the store (its message says why)."""


def _write(pipe: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=5)
    pipe.write(_LEN.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _read(pipe: Any) -> Any:
    head = pipe.read(4)
    if len(head) < 4:
        return None
    (n,) = _LEN.unpack(head)
    data = pipe.read(n)
    return pickle.loads(data) if len(data) == n else None


class ProcessWriter:
    """Same surface as db.writer.BatchWriter (submit, flush, close, written, dropped), but the
    rows are built, shaped and written in another process."""

    def __init__(self, url: str, *, batch_size: int = 500, max_queue: int = 100_000,
                 retry_seconds: float = 0.5, linger: float = 0.25, shapes: bool = True,
                 on_error: Callable[[str], None] | None = None,
                 max_bytes: int = MAX_QUEUED_BYTES) -> None:
        self.config = {"url": url, "batch_size": batch_size, "retry_seconds": retry_seconds,
                       "linger": linger, "shapes": shapes, "session": uuid.uuid4().hex}
        self.max_queue, self.max_bytes = max_queue, max_bytes
        self.written = self.dropped = self.lost_blocks = self.restarts = 0
        self.last_error: str | None = None
        self._on_error = on_error or (lambda msg: log.error(msg))
        self._seq = 0
        self._acked = 0
        self._unacked: collections.deque[tuple] = collections.deque()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._bytes = 0  # body bytes queued, not yet written to the pipe
        self._acks = threading.Condition()
        self._overflowing = False
        self._closed = False
        self._bye = False
        self._abandoned = False
        self._proc = self._spawn()  # raises SinkError: recording impossible, say so at start
        self._reader = self._start_reader()
        self._sender = threading.Thread(target=self._send_loop, name="dockdrift-sender",
                                        daemon=True)
        self._sender.start()

    # -- producer side (event loop): never blocks ---------------------------------------
    def submit(self, fields: tuple) -> bool:
        """Queue one finished exchange (db.exchange.Exchange's fields after `seq`)."""
        if len(self._unacked) >= self.max_queue:
            return refuse(self)
        self._seq += 1
        item = ("r", self._seq, fields)
        self._unacked.append(item)
        self._queue.put(item)
        return taken(self)

    def block(self, key: int, side: int, body: tuple, data: bytes) -> bool:
        """Queue bytes of a body for the extractors; False (block not taken) when the writer
        is that far behind: the caller stops sending that body and says it is incomplete."""
        if self._bytes > self.max_bytes:
            self.lost_blocks += 1
            if self.lost_blocks == 1 or self.lost_blocks % 1000 == 0:
                self._on_error(f"dockdrift: writer {self.max_bytes >> 20} MB behind; "
                               f"{self.lost_blocks} body parts not shaped so far")
            return False
        self._bytes += len(data)
        self._queue.put(("b", key, side, body, data))
        return True

    def identity(self, found: Any) -> None:
        """The upstream identified itself (db.target's probe): rows from now on say so."""
        self._queue.put(("i", found))

    def pending(self) -> int:
        return len(self._unacked)

    # -- control -------------------------------------------------------------------------
    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until every record submitted before this call is committed (or timeout)."""
        target = self._seq
        self._queue.put(_FLUSH)
        with self._acks:
            return self._acks.wait_for(lambda: self._acked >= target, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the writer process; safe to call twice. A store that
        stays unwritable is waited for `timeout` seconds, then the loss is logged, counted."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout
        self._queue.put(_STOP)
        for t in (self._sender, self._reader):
            t.join(max(0.0, deadline - time.monotonic()))
        try:
            self._proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._on_error(f"dockdrift: writer did not finish within {timeout:.0f}s; "
                           f"{len(self._unacked)} exchanges may not be recorded "
                           f"(last error: {self.last_error})")
            self._abandoned = True  # the sender must not start another one now
            self._proc.kill()
            self._proc.wait()
            self._reader.join(5)
        if self._unacked:
            self.dropped += len(self._unacked)
            self._on_error(f"dockdrift: the writer process ended with {len(self._unacked)} "
                           "exchanges not committed")
            self._unacked.clear()
        if self.dropped:
            self._on_error(f"dockdrift: {self.dropped} exchanges were NOT recorded "
                           f"({self.written} were); see the errors above")

    # -- the writer process --------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "dockdrift.db.sink_worker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                start_new_session=True, close_fds=True)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _write(proc.stdin, self.config)
            first = _read(proc.stdout)
        except OSError:
            first = None
        if not first or first[0] != "ready":
            proc.wait()
            raise SinkError(first[1] if first else f"the writer process exited ({proc.returncode})")
        return proc

    def _start_reader(self) -> threading.Thread:
        t = threading.Thread(target=self._read_loop, args=(self._proc,),
                             name="dockdrift-acks", daemon=True)
        t.start()
        return t

    def _read_loop(self, proc: subprocess.Popen) -> None:
        while (msg := _read(proc.stdout)) is not None:
            if msg[0] == "bye":
                self._bye = True
                continue
            _, seq, written, dropped, last_error = msg
            self.last_error = last_error
            if seq is None:
                continue
            with self._acks:
                while self._unacked and self._unacked[0][1] <= seq:
                    self._unacked.popleft()
                self._acked = max(self._acked, seq)
                self.written += written
                self.dropped += dropped
                self._acks.notify_all()
        if not self._bye:  # died: the sender starts another and resends
            self._queue.put(_WAKE)

    def _restart(self) -> None:
        """Start a new writer process and give it every record not yet acknowledged."""
        if self._abandoned:
            raise OSError("the writer was given up at close")
        old = self._proc
        old.wait()
        while True:
            try:
                self._proc = self._spawn()
                break
            except SinkError as exc:
                if self._abandoned:
                    raise OSError("the writer was given up at close") from None
                self._on_error(f"dockdrift: cannot restart the writer ({exc}); retrying")
                time.sleep(1.0)
        self.restarts += 1
        self._reader = self._start_reader()
        backlog = list(self._unacked)
        self._on_error(f"dockdrift: the writer process exited ({old.returncode}); restarted, "
                       f"{len(backlog)} exchanges not yet committed are sent again")
        for i in range(0, len(backlog), FRAME_ITEMS):
            _write(self._proc.stdin, backlog[i:i + FRAME_ITEMS])

    def _send_loop(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < FRAME_ITEMS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in batch
            sent = 0
            for _attempt in range(5):
                if self._proc.poll() is not None or not self._reader.is_alive() and not self._bye:
                    try:
                        self._restart()
                    except OSError:
                        continue
                try:
                    _write(self._proc.stdin, [i for i in batch if i is not _WAKE])
                    sent = 1
                    break
                except OSError:  # the process died under us: restart, resend, try again
                    self._proc.wait()
            self._bytes -= sum(len(i[4]) for i in batch if i[0] == "b")
            if not sent:
                self._on_error("dockdrift: cannot hand exchanges to the writer process")
        if self._unacked:  # stopped before committing everything: one more writer, if it died
            self._reader.join(30)
            if not self._bye and self._unacked:
                try:
                    self._restart()
                    _write(self._proc.stdin, [_STOP])
                except OSError:
                    pass
        try:
            self._proc.stdin.close()
        except OSError:
            pass
