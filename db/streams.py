"""Outcomes hidden inside 200 answers: errors in JSON-message streams, and exit statuses.

`docker build/pull/push/load/import` and plugin installs answer 200 at once and report a
failure inside the stream (`{"errorDetail": {...}, "error": "..."}`, one JSON message per
line); `POST /containers/{id}/wait` answers 200 with the exit status in its small body.

Pure code, no mitmproxy: the recorder decides once per exchange (at the response headers)
whether an answer is one of these (`outcome_kind`), then feeds every chunk of a message
stream to a `MessageScanner`, or keeps the first few KB of a wait/exec body and reads them
with `exit_status`. The scanner never holds more than MAX_LINE bytes whatever the stream's
size (a longer message is skipped, not buffered) and stores no body: only the first error's
text (raw, capped; db.record redacts it) and the number of error messages.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from dockdrift.db.routes import match, route_shape

BODY_HEAD = 512  # bytes of a 4xx/5xx body kept in memory, never on disk
# /version and /info answers are 0.8-3 KB (Components, Plugins): their JSON is only readable
# whole, so they keep more. Still bounded; only these two small routes.
IDENTITY_HEAD = 16384
MAX_LINE = 4096  # bytes of one message kept while its end has not arrived
FIRST_ERROR_RAW = 1000  # characters of the first error kept before redaction (then 200)
EXIT_BODY_MAX = 4096  # bytes of a wait / exec-inspect body read for the exit status
_ERROR_KEY = b'"error'  # the "error" and "errorDetail" keys

MESSAGES, WAIT, LIBPOD_WAIT, EXEC = "messages", "wait", "libpod-wait", "exec"
# (method, route shape) -> outcome kind. Shapes blank the variables, so Engine templates
# (`/images/{name:.*}/push`) and Podman's (`/libpod/images/{name}/push`) are both found.
KINDS: dict[tuple[str, str], str] = {
    **{("POST", shape): MESSAGES for shape in (
        "/build", "/images/create", "/images/{}/push", "/images/load", "/plugins/pull",
        "/plugins/{}/upgrade", "/plugins/{}/push", "/plugins/create", "/libpod/build",
        "/libpod/images/pull", "/libpod/images/{}/push", "/libpod/images/load",
        "/libpod/images/import")},
    ("POST", "/containers/{}/wait"): WAIT,
    ("POST", "/libpod/containers/{}/wait"): LIBPOD_WAIT,
    ("GET", "/exec/{}/json"): EXEC,
    ("GET", "/libpod/exec/{}/json"): EXEC,
}
# Last path segments of those routes: a request whose path ends otherwise is not matched at
# all (one str.endswith call for most traffic).
_SUFFIXES = ("/build", "/create", "/push", "/load", "/pull", "/upgrade", "/import", "/wait",
             "/json")
@lru_cache(maxsize=512)
def kind_of_route(method: str, route: str | None) -> str | None:
    """The outcome kind of a route template: messages, wait, libpod-wait, exec or None."""
    return KINDS.get((method, route_shape(route))) if route else None


def outcome_kind(method: str, path: str) -> str | None:
    """The outcome kind of a request (raw path, query allowed), or None for most traffic."""
    path = path.partition("?")[0]
    if not path.endswith(_SUFFIXES) or (method == "GET" and "/exec/" not in path):
        return None
    return kind_of_route(method, match(method, path).route)


class MessageScanner:
    """Stream callable for a JSON-message stream: counts bytes, finds error messages.

    Messages end with a newline; chunk boundaries fall anywhere. Only the bytes after the
    last newline are kept, and only up to MAX_LINE: a longer message is skipped to its end.
    A chunk is looked at line by line only when it contains `"error` (rare), so a clean
    stream costs a few C-level byte searches per chunk.
    """

    __slots__ = ("n", "count", "first", "_tail", "_skip")

    def __init__(self) -> None:
        self.n = 0
        self.count = 0
        self.first: str | None = None
        self._tail = b""
        self._skip = False

    def __call__(self, chunk: bytes) -> bytes:
        self.n += len(chunk)
        last = chunk.rfind(b"\n")
        if last < 0:
            if not self._skip:
                if len(self._tail) + len(chunk) > MAX_LINE:
                    self._tail, self._skip = b"", True
                else:
                    self._tail += chunk
            return chunk
        start = 0
        if self._tail or self._skip:
            start = chunk.find(b"\n") + 1
            if not self._skip and start + len(self._tail) <= MAX_LINE + 1:
                self._line(self._tail + chunk[:start])
            self._tail, self._skip = b"", False
        if chunk.find(_ERROR_KEY, start, last) >= 0:
            for line in chunk[start:last].split(b"\n"):
                self._line(line)
        if len(chunk) - last - 1 > MAX_LINE:
            self._skip = True
        else:
            self._tail = chunk[last + 1:]
        return chunk

    def finish(self) -> None:
        """The stream ended: a last message without a newline still counts. Idempotent.
        (An empty chunk is not an end: mitmproxy passes one at the end, maybe elsewhere.)"""
        if self._tail and not self._skip:
            self._line(self._tail)
        self._tail, self._skip = b"", False

    def _line(self, line: bytes) -> None:
        if _ERROR_KEY not in line or len(line) > MAX_LINE + 2:  # skipped whatever the chunking
            return
        for text in message_errors(line):
            self.count += 1
            if self.first is None:
                self.first = text[:FIRST_ERROR_RAW]


def message_errors(line: bytes) -> list[str]:
    """The error texts of one line of a message stream (usually one JSON object; a line
    that holds several concatenated objects, or broken JSON, is read as well as it can be)."""
    text = line.decode("utf-8", "replace").strip()
    out: list[str] = []
    decoder, pos = json.JSONDecoder(), 0
    while pos < len(text):
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            return out + _errors_by_regex(text[pos:])
        if isinstance(obj, dict) and (err := _error_of(obj)) is not None:
            out.append(err)
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
    return out


def _error_of(msg: dict) -> str | None:
    err, detail = msg.get("error"), msg.get("errorDetail")
    if isinstance(err, str) and err:
        return err
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    if err:  # an error that is not a string: keep its JSON text
        return json.dumps(err)[:FIRST_ERROR_RAW]
    return None


_ERROR_STRING = re.compile(r'"error"\s*:\s*"((?:[^"\\]|\\.)*)')


def _errors_by_regex(text: str) -> list[str]:
    """Broken JSON (cut, or not JSON at all): each non-empty `"error": "..."` string."""
    out = []
    for m in _ERROR_STRING.finditer(text):
        raw = m.group(1)
        try:
            raw = json.loads(f'"{raw}"')
        except ValueError:
            pass
        if raw:
            out.append(raw)
    return out


_STATUS_CODE = re.compile(rb'"StatusCode"\s*:\s*(-?\d+)')
_EXIT_CODE = re.compile(rb'"ExitCode"\s*:\s*(-?\d+)')
_RUNNING = re.compile(rb'"Running"\s*:\s*(true|false)')
_WAIT_ERROR = re.compile(rb'"Error"\s*:\s*\{[^{}]*"Message"\s*:\s*"((?:[^"\\]|\\.)*)')


def exit_status(kind: str, body: bytes) -> tuple[int | None, str | None]:
    """(exit code, error text) from the start of a 200 answer of a wait or exec-inspect route.

    wait: `{"StatusCode": 3, "Error": null}` (Error.Message when waiting failed); libpod
    wait: a bare integer; exec inspect: `ExitCode` only once `Running` is false. The body
    may be cut at EXIT_BODY_MAX bytes: the fields are then found by pattern.
    """
    body = body[:EXIT_BODY_MAX]
    if kind == LIBPOD_WAIT:
        m = re.fullmatch(rb'\s*"?(-?\d+)"?\s*', body)
        return (int(m.group(1)), None) if m else (None, None)
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        return _exit_from_object(kind, obj)
    if kind == WAIT:
        code, err = _STATUS_CODE.search(body), _WAIT_ERROR.search(body)
        return (int(code.group(1)) if code else None,
                err.group(1).decode("utf-8", "replace") if err else None)
    if kind == EXEC:
        code, running = _EXIT_CODE.search(body), _RUNNING.search(body)
        if code and running and running.group(1) == b"false":
            return int(code.group(1)), None
    return None, None


def _exit_from_object(kind: str, obj: dict) -> tuple[int | None, str | None]:
    if kind == WAIT:
        code, err = obj.get("StatusCode"), obj.get("Error")
        message = err.get("Message") if isinstance(err, dict) else None
        return (code if isinstance(code, int) else None,
                str(message) if message else None)
    if kind == EXEC and obj.get("Running") is False and isinstance(obj.get("ExitCode"), int):
        return obj["ExitCode"], None
    return None, None


# -- the recorder's stream callables (mitmproxy calls one per chunk; chosen once per answer)

class Counter:
    """Stream callable: counts bytes."""

    __slots__ = ("n",)
    head = b""
    kind: str | None = None

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, chunk: bytes) -> bytes:
        self.n += len(chunk)
        return chunk


class HeadCounter(Counter):
    """Counts bytes and keeps the first `limit` bytes (error bodies, /version, /wait)."""

    __slots__ = ("head", "limit", "kind")

    def __init__(self, limit: int = BODY_HEAD, kind: str | None = None) -> None:
        self.n, self.head, self.limit, self.kind = 0, b"", limit, kind

    def __call__(self, chunk: bytes) -> bytes:
        self.n += len(chunk)
        if len(self.head) < self.limit:
            self.head += chunk[: self.limit - len(self.head)]
        return chunk


def response_stream(status: int, kind: str | None,
                    wants_body: bool) -> Counter | MessageScanner:
    """The stream callable for one response, chosen once at its headers: most answers are
    only counted; a 2xx message stream is scanned for errors, a 2xx wait/exec body and an
    error or /version body keep their start."""
    if kind is not None and 200 <= status < 300:
        return MessageScanner() if kind == MESSAGES else HeadCounter(EXIT_BODY_MAX, kind)
    if wants_body:
        return HeadCounter(IDENTITY_HEAD)
    return HeadCounter() if status >= 400 else Counter()


def outcome_fields(out: Counter | MessageScanner) -> dict:
    """The stream_error / stream_error_count / exit_code arguments of build_row."""
    if isinstance(out, MessageScanner):
        out.finish()
        return {"stream_error_text": out.first, "stream_error_count": out.count}
    if out.kind is not None and out.head:
        code, error = exit_status(out.kind, out.head)
        # a wait answer has an Error field (0 or 1 errors); an exec inspect has none
        return {"exit_code": code, "stream_error_text": error,
                "stream_error_count": None if out.kind == EXEC else int(error is not None)}
    return {}
