"""What the proxy hands the writer per exchange: plain tuples, cheap to make and to pickle.

Standard library only: the proxy process imports this, never SQLAlchemy or the extractors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

REQUEST, RESPONSE = 0, 1


class Body(NamedTuple):
    """What the proxy knew of a body at its headers (decided once, in the hook)."""

    status: int | None = None  # the response's status; None for a request
    json: bool = False  # a JSON content type
    kind: str | None = None  # db.streams outcome kind (messages, wait, ...)
    stream: bool = False  # many JSON messages (progress, events, stats)
    identity: bool = False  # a /version or /info answer


NO_BODY = Body()


class Exchange(NamedTuple):
    """One exchange as the proxy hands it over: plain values, cheap to make and to pickle."""

    seq: int  # submission order (exactly-once bookkeeping)
    key: int  # joins the body blocks sent before this record
    method: str
    raw_target: bytes
    started: float
    ended: float | None
    status: int | None
    error: str | None
    request_bytes: int | None
    response_bytes: int | None
    user_agent: str | None
    server: str | None
    client: str | None
    probe_case: str | None
    recorder: str | None
    denied: bool
    request: tuple[Body, bytes, bool] = (NO_BODY, b"", False)  # (body, last bytes, lost)
    response: tuple[Body, bytes, bool] = (NO_BODY, b"", False)
    facts: dict[str, Any] | None = None


