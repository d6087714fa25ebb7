"""What the recorder derives per exchange: extractors in one pipeline, with one contract.

The proxy's hooks only copy what they saw into a compact `Exchange` (and hand the bytes of the
bodies an extractor asked for, in blocks, to the writer); everything that parses runs here,
in the writer process, never on mitmproxy's event loop. An extractor is a class:

    class MyExtractor:
        name = "client"                        # unique
        columns = ("client_name", ...)         # the `exchanges` columns it fills
        def __init__(self, ctx: Context) -> None   # one instance per exchange: its state,
                                               # which must stay bounded whatever the bodies
        def wants(self, side: int, body: Body) -> bool      # optional: feed me this body?
        def feed(self, side: int, chunk: bytes) -> None     # optional: its bytes, in order
        def finish(self, ex: Exchange, row: dict) -> dict   # its columns (row: earlier ones)

and is added with `register(MyExtractor)` (order matters only for `row`). What an extractor
needs from the proxy process beyond `Exchange`'s fields travels in `Exchange.facts`: a small
dict a proxy-side hook puts into `flow.metadata["dockdrift_facts"]` (ids and names only).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from dockdrift.db.clients import ClientIdentity
from dockdrift.db.exchange import REQUEST, RESPONSE, Body, Exchange
from dockdrift.db.models import Exchange as ExchangeModel
from dockdrift.db.record import (
    USER_AGENT_MAX,
    error_message,
    redact_query,
    split_target,
    stream_error,
    utc_from_timestamp,
)
from dockdrift.db.routes import match
from dockdrift.db.shapes import BODY_BOUND, Shape, Shaper
from dockdrift.db.streams import (
    BODY_HEAD,
    EXIT_BODY_MAX,
    IDENTITY_HEAD,
    MESSAGES,
    HeadCounter,
    MessageScanner,
    outcome_fields,
)
from dockdrift.db.target import TargetTracker

class Extractor(Protocol):
    name: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class Context:
    """What extractors share across exchanges in the writer process."""

    tracker: TargetTracker = field(default_factory=TargetTracker)
    shapes_on: bool = True
    shapes: ShapeBook = field(default_factory=lambda: ShapeBook())


class ShapeBook:
    """Distinct shapes seen, and the new ones not yet written (bounded memory)."""

    def __init__(self, remember: int = 20000) -> None:
        self.known: OrderedDict[str, None] = OrderedDict()
        self.new: dict[str, Shape] = {}
        self.remember = remember

    def add(self, shape: Shape) -> str:
        h = shape.hash
        if h in self.known:
            self.known.move_to_end(h)
        else:
            self.new[h] = shape
            self.known[h] = None
            if len(self.known) > self.remember:
                self.known.popitem(last=False)  # written again at worst (insert-or-ignore)
        return h

    def take(self) -> dict[str, Shape]:
        out, self.new = self.new, {}
        return out


# -- the extractors ------------------------------------------------------------------------

class RouteTag:
    """Path, query (redacted), API version, route template and handler."""

    name = "route"
    columns = ("path", "query", "api_version", "route", "handler", "route_source")

    def __init__(self, ctx: Context) -> None:
        pass

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]:
        path, query = split_target(ex.raw_target)
        m = match(ex.method, path)
        return {"path": path, "query": redact_query(query), "api_version": m.api_version,
                "route": m.route, "handler": m.handler, "route_source": m.source}


class Target:
    """Which implementation answered: the upstream's kind, version and API floor."""

    name = "target"
    columns = ("server", "target", "target_version", "min_api_version")

    def __init__(self, ctx: Context) -> None:
        self.tracker = ctx.tracker
        self.head: HeadCounter | None = None

    def wants(self, side: int, body: Body) -> bool:
        if side == RESPONSE and body.identity:
            self.head = HeadCounter(IDENTITY_HEAD)
        return self.head is not None

    def feed(self, side: int, chunk: bytes) -> None:
        if self.head is not None:
            self.head(chunk)

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]:
        if self.head is not None and self.head.head and ex.status is not None:
            self.tracker.observe(ex.method, row["path"], ex.status, self.head.head, ex.server)
        kind, version = self.tracker.kind_and_version(ex.server)
        return {"server": ex.server or self.tracker.identity, "target": kind,
                "target_version": version,
                "min_api_version": self.tracker.floor(kind)}


class ErrorText:
    """The server's short error text from a 4xx/5xx body (capped, redacted)."""

    name = "error_text"
    columns = ("error_message",)

    def __init__(self, ctx: Context) -> None:
        self.head: HeadCounter | None = None

    def wants(self, side: int, body: Body) -> bool:
        if side == RESPONSE and body.status is not None and body.status >= 400:
            self.head = HeadCounter(BODY_HEAD)
        return self.head is not None

    def feed(self, side: int, chunk: bytes) -> None:
        if self.head is not None:
            self.head(chunk)

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]:
        failed = ex.status is not None and ex.status >= 400
        head = self.head.head if self.head is not None else b""
        return {"error_message": error_message(head, row["route"]) if failed else None}


class Outcome:
    """Errors inside 200 message streams, and exit statuses of wait / exec-inspect answers."""

    name = "outcome"
    columns = ("stream_error", "stream_error_count", "exit_code")

    def __init__(self, ctx: Context) -> None:
        self.out: HeadCounter | MessageScanner | None = None

    def wants(self, side: int, body: Body) -> bool:
        if side == RESPONSE and body.kind is not None and body.status is not None \
                and 200 <= body.status < 300:
            self.out = MessageScanner() if body.kind == MESSAGES else \
                HeadCounter(EXIT_BODY_MAX, body.kind)
        return self.out is not None

    def feed(self, side: int, chunk: bytes) -> None:
        if self.out is not None:
            self.out(chunk)

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]:
        got = outcome_fields(self.out) if self.out is not None else {}
        return {"stream_error": stream_error(got.get("stream_error_text"), row["route"]),
                "stream_error_count": got.get("stream_error_count"),
                "exit_code": got.get("exit_code")}


class Shapes:
    """The shape of each JSON body (paths and types, never values), deduplicated."""

    name = "shapes"
    columns = ("request_shape", "response_shape")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.shapers: list[Shaper | None] = [None, None]

    def wants(self, side: int, body: Body) -> bool:
        if body.json and self.ctx.shapes_on:
            self.shapers[side] = Shaper(BODY_BOUND, stream=body.stream)
        return self.shapers[side] is not None

    def feed(self, side: int, chunk: bytes) -> None:
        shaper = self.shapers[side]
        if shaper is not None:
            shaper.feed(chunk)

    def finish(self, ex: Exchange, row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for side, column, lost in ((REQUEST, "request_shape", ex.request[2]),
                                   (RESPONSE, "response_shape", ex.response[2])):
            shaper = self.shapers[side]
            shape = shaper.finish() if shaper is not None else None
            if shape is not None and lost and not shape.truncated:
                shape = Shape(shape.paths, True, shape.stream)
            out[column] = self.ctx.shapes.add(shape) if shape is not None else None
        return out


EXTRACTORS: list[type] = [RouteTag, Target, ErrorText, Outcome, Shapes, ClientIdentity]


def register(extractor: type) -> None:
    """Add an extractor to every pipeline made from now on (after the built-in ones)."""
    if any(e.name == extractor.name for e in EXTRACTORS):
        raise ValueError(f"an extractor named {extractor.name!r} exists already")
    EXTRACTORS.append(extractor)


COLUMNS = tuple(c.name for c in ExchangeModel.__table__.columns if c.name not in ("id",))


class _Flow:
    """The extractor instances of one exchange, and which of them read which body."""

    __slots__ = ("extractors", "readers", "seen")

    def __init__(self, ctx: Context, kinds: list[type]) -> None:
        self.extractors = [k(ctx) for k in kinds]
        self.readers: list[list[Any]] = [[], []]
        self.seen = [False, False]

    def feed(self, side: int, body: Body, data: bytes) -> None:
        if not self.seen[side]:
            self.seen[side] = True
            self.readers[side] = [e for e in self.extractors
                                  if hasattr(e, "wants") and e.wants(side, body)]
        for e in self.readers[side]:
            e.feed(side, data)


class Pipeline:
    """Body blocks in (by exchange key), finished exchanges out as `exchanges` rows."""

    def __init__(self, ctx: Context | None = None, kinds: list[type] | None = None,
                 max_flows: int = 100_000) -> None:
        self.ctx = ctx or Context()
        self.kinds = list(kinds if kinds is not None else EXTRACTORS)
        self.flows: dict[int, _Flow] = {}
        self.max_flows = max_flows

    def feed(self, key: int, side: int, body: Body, data: bytes) -> None:
        flow = self.flows.get(key)
        if flow is None:
            if len(self.flows) >= self.max_flows:  # records lost upstream: forget the oldest
                self.flows.pop(next(iter(self.flows)))
            flow = self.flows[key] = _Flow(self.ctx, self.kinds)
        flow.feed(side, body, data)

    def finish(self, ex: Exchange) -> dict[str, Any]:
        flow = self.flows.pop(ex.key, None) or _Flow(self.ctx, self.kinds)
        for side, (body, tail, _lost) in ((REQUEST, ex.request), (RESPONSE, ex.response)):
            if tail or not flow.seen[side]:
                flow.feed(side, body, tail)
        row = dict.fromkeys(COLUMNS)
        row.update(basics(ex))
        for e in flow.extractors:
            row.update(e.finish(ex, row))
        return row


def basics(ex: Exchange) -> dict[str, Any]:
    """The columns that are what the proxy saw, not derived."""
    ua = ex.user_agent
    return {"started_at": utc_from_timestamp(ex.started), "method": ex.method,
            "status_code": ex.status, "error": ex.error,
            "duration_ms": None if ex.ended is None else round((ex.ended - ex.started) * 1000.0, 3),
            "request_bytes": ex.request_bytes, "response_bytes": ex.response_bytes,
            "hijacked": ex.status == 101, "user_agent": ua[:USER_AGENT_MAX] if ua else None,
            "client": ex.client, "probe_case": ex.probe_case, "recorder": ex.recorder,
            "denied": ex.denied}
