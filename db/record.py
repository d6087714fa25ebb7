"""Pure functions that turn what the proxy saw into one `exchanges` row. No mitmproxy here.

The recorder builds its rows with db.extract's pipeline (in its writer process), from these
functions; `build_row` is the same in one call, for other callers and tests.

What is stored, and what never is: no request or response bodies; never the values of
X-Registry-Auth, X-Registry-Config, Authorization, the body of POST /auth, Env values, or
secret/config payloads. Only the first 200 characters of a 4xx/5xx error message are kept,
and none for routes whose request bodies carry credentials.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

from dockdrift.db.routes import match

ERROR_MESSAGE_MAX = 200
USER_AGENT_MAX = 256
# Routes whose request body carries credentials or secret payloads: never keep their
# error text, which may echo the input.
_SENSITIVE_ROUTES = frozenset({
    "/auth", "/secrets/create", "/secrets/{id}/update", "/configs/create",
    "/configs/{id}/update", "/swarm/init", "/swarm/join", "/swarm/unlock", "/plugins/pull",
    "/plugins/{name:.*}/set", "/plugins/{name:.*}/upgrade",
})
# Query parameters whose values may carry secrets (build args, registry credentials).
_SECRET_QUERY = re.compile(r"buildargs|auth|passw|secret|token|cred", re.I)
# `KEY=value` pairs as they appear in Env lists and in Docker's error texts. The key may be
# empty or unusual: the daemon echoes an invalid Env entry whole ("invalid environment
# variable: =s3cret"), so any token with an `=` counts.
_ENV_PAIR = re.compile(r"(?<![^\s,\[(\"':])([^\s=,\[\]\"':]*)=(\"[^\"]*\"|'[^']*'|[^\s,\]\"']+)")
# Registry errors echo URLs, and a URL may carry `user:password@` (a pull `fromSrc` or a
# registry mirror), or an auth header's credentials ("Basic dXNlcjpwYXNz"): both redacted.
# Query strings (`?account=bob&scope=...`, the token server's) are `KEY=value` pairs above.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"']+@")
_AUTH_VALUE = re.compile(r"\b(Basic|Bearer)\s+(?=[A-Za-z0-9._~+/=-]*[0-9+/=._~-])[A-Za-z0-9._~+/=-]{8,}")


def decode_raw(raw: bytes) -> str:
    """Raw request-target bytes -> text; bytes that are not UTF-8 stay visible as \\xNN."""
    return raw.decode("utf-8", "backslashreplace")


def split_target(raw_target: bytes) -> tuple[str, str | None]:
    """`/v1.41/containers/json?all=1` -> ("/v1.41/containers/json", "all=1")."""
    path, sep, query = raw_target.partition(b"?")
    return decode_raw(path), (decode_raw(query) if sep else None)


def redact_query(query: str | None) -> str | None:
    """Keep the query readable but replace the values of secret-looking parameters."""
    if not query or not _SECRET_QUERY.search(query):
        return query
    parts = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        shown = "REDACTED" if _SECRET_QUERY.search(key) else value
        parts.append(f"{quote(key, safe='')}={quote(shown, safe='')}")
    return "&".join(parts)


def redact_text(text: str) -> str:
    """`FOO=secret` -> `FOO=REDACTED` (error texts may echo Env entries); credentials in
    URLs (`https://user:pw@host` -> `https://REDACTED@host`) and auth header values too."""
    if "://" in text:
        text = _URL_USERINFO.sub(r"\1REDACTED@", text)
    if "Basic" in text or "Bearer" in text:
        text = _AUTH_VALUE.sub(r"\1 REDACTED", text)
    return _ENV_PAIR.sub(_redacted_pair, text) if "=" in text else text


def _redacted_pair(m: re.Match[str]) -> str:
    return f"{m.group(1)}=REDACTED"


def error_message(body_head: bytes, route: str | None) -> str | None:
    """The server's short error text from the start of a 4xx/5xx body, capped and redacted."""
    if not body_head or route in _SENSITIVE_ROUTES:
        return None
    text = body_head.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("message", text))
        except (ValueError, AttributeError):
            m = re.search(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)', text)
            text = m.group(1) if m else text
    return short_text(text)


def short_text(text: str) -> str | None:
    """An error text as stored: whitespace folded, redacted, capped at 200 characters."""
    text = redact_text(" ".join(text.split()))
    return text[:ERROR_MESSAGE_MAX] or None


def stream_error(text: str | None, route: str | None) -> str | None:
    """An error from inside a 200 stream (or /wait), stored exactly like `error_message`."""
    if not text or route in _SENSITIVE_ROUTES:
        return None
    return short_text(text)


_EPOCH = datetime(1970, 1, 1)


def utc_from_timestamp(ts: float) -> datetime:
    """A POSIX timestamp -> naive UTC (one addition: the recorder calls it per exchange)."""
    return _EPOCH + timedelta(seconds=ts)


def build_row(*, method: str, raw_target: bytes, started: float, ended: float | None,
              status_code: int | None, error: str | None = None,
              request_bytes: int | None = None, response_bytes: int | None = None,
              user_agent: str | None = None, server: str | None = None,
              target: str | None = None, client: str | None = None,
              body_head: bytes = b"", target_version: str | None = None,
              probe_case: str | None = None, recorder: str | None = None,
              denied: bool = False, stream_error_text: str | None = None,
              stream_error_count: int | None = None,
              exit_code: int | None = None,
              min_api_version: str | None = None) -> dict[str, Any]:
    """Everything known about one exchange -> a dict of `exchanges` columns."""
    path, query = split_target(raw_target)
    m = match(method, path)
    failed = status_code is not None and status_code >= 400
    return {
        "started_at": utc_from_timestamp(started),
        "method": method,
        "path": path,
        "query": redact_query(query),
        "api_version": m.api_version,
        "route": m.route,
        "handler": m.handler,
        "route_source": m.source,
        "status_code": status_code,
        "error": error,
        "error_message": error_message(body_head, m.route) if failed else None,
        "duration_ms": None if ended is None else round((ended - started) * 1000.0, 3),
        "request_bytes": request_bytes,
        "response_bytes": response_bytes,
        "hijacked": status_code == 101,
        "user_agent": user_agent[:USER_AGENT_MAX] if user_agent else None,
        "server": server,
        "target": target,
        "client": client,
        "target_version": target_version,
        "min_api_version": min_api_version,
        "probe_case": probe_case,
        "recorder": recorder,
        "denied": denied,
        "stream_error": stream_error(stream_error_text, m.route),
        "stream_error_count": stream_error_count,
        "exit_code": exit_code,
        # every other column too: db.writer's SQLite fast path needs them all (else it
        # falls back to SQLAlchemy Core's slower executemany)
        "uid": None, "request_shape": None, "response_shape": None,
        "client_name": None, "client_version": None, "peer_pid": None, "peer_uid": None,
        "peer_process": None, "peer_exe": None,
    }


def target_from_version_body(body: bytes) -> tuple[str, str] | None:
    """GET /version or /info body -> (target kind, identity) when it says which.

    Kept for callers of dockdrift 0.1; db.implementations.from_version_body says more."""
    from dockdrift.db.implementations import from_version_body

    found = from_version_body(body)
    return (found.kind, found.server) if found else None
