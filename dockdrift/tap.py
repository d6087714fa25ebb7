"""The recorder's stream callables: count every body, pass on the bytes extractors read.

Decided once per body at its headers (a few string tests): most answers are only counted
(db.streams.Counter); a body an extractor reads (JSON for shapes, message streams for their
errors, wait/exec answers for exit codes, error texts, /version) gets a `Tap`, which copies
its bytes, up to a limit, into blocks handed to the writer process. Nothing is parsed here.
"""

from __future__ import annotations

from typing import Any

from dockdrift.db.exchange import RESPONSE, Body
from dockdrift.db.shapes import BODY_BOUND
from dockdrift.db.streams import BODY_HEAD, EXIT_BODY_MAX, IDENTITY_HEAD, MESSAGES, Counter

BLOCK = 1 << 16  # bytes handed over at once
UNLIMITED = -1
_STREAM_PATHS = ("/events", "/stats")


class Tap(Counter):
    """Counts bytes and hands the first `limit` of them (all: UNLIMITED) to the sink."""

    __slots__ = ("sink", "key", "side", "body", "limit", "buf", "taken", "lost")

    def __init__(self, sink: Any, key: int, side: int, body: Body, limit: int) -> None:
        self.n, self.sink, self.key, self.side, self.body = 0, sink, key, side, body
        self.limit, self.buf, self.taken, self.lost = limit, bytearray(), 0, False

    def __call__(self, chunk: bytes) -> bytes:
        self.n += len(chunk)
        if self.limit:
            if self.limit > 0:
                room = self.limit - self.taken
                if len(chunk) > room:
                    chunk_in, self.limit = chunk[:room], 0
                else:
                    chunk_in = chunk
                self.taken += len(chunk_in)
                self.buf += chunk_in
            else:
                self.buf += chunk
            if len(self.buf) >= BLOCK:
                if not self.sink.block(self.key, self.side, self.body, bytes(self.buf)):
                    self.lost, self.limit = True, 0
                self.buf.clear()
        return chunk

    def handover(self) -> tuple[Body, bytes, bool]:
        """(body, the bytes not yet handed over, whether some were lost) for the record."""
        tail = bytes(self.buf)
        self.buf.clear()
        return self.body, tail, self.lost


def is_json(content_type: str | None) -> bool:
    return content_type is not None and "json" in content_type


def request_tap(sink: Any, key: int, content_type: str | None, shapes: bool) -> Counter:
    if shapes and is_json(content_type):
        return Tap(sink, key, 0, Body(None, True), BODY_BOUND + 1)
    return Counter()


def response_tap(sink: Any, key: int, status: int, kind: str | None, identity: bool,
                 content_type: str | None, path: str, shapes: bool) -> Counter:
    """The stream callable of one response (see the module's docstring)."""
    ok = 200 <= status < 300
    json = shapes and is_json(content_type)
    stream = ok and (kind == MESSAGES or (json and path.partition("?")[0].endswith(_STREAM_PATHS)))
    if stream:
        limit = UNLIMITED
    else:
        limit = max(BODY_BOUND + 1 if json else 0,
                    EXIT_BODY_MAX if ok and kind is not None else 0,
                    IDENTITY_HEAD if identity else 0,
                    BODY_HEAD if status >= 400 else 0)
        if not limit:
            return Counter()
    return Tap(sink, key, RESPONSE, Body(status, json, kind, stream, identity), limit)


def handover(stream: Any) -> tuple[Body, bytes, bool] | None:
    return stream.handover() if isinstance(stream, Tap) else None
