"""Body shapes: the field paths of a JSON body with the JSON types seen at each, never a value.

A shape is `{"<path>": ["<type>", ...]}` with paths in jq-like syntax: `.` is the body itself,
`.Name` an object member, `[]` the elements of an array (a top-level array's are `[]`, their
members `[].Id`), `.*` the values of a map with dynamic keys (`.Config.Labels.*`). Types are
`object`, `array`, `string`, `number` (`integer` where every value at that path was an
integer), `boolean`, `null`. A stream (NDJSON or concatenated JSON values: events, stats,
build/pull/push progress) has the union of its messages' shapes.

Nothing of a body's values reaches a shape: keys of maps are replaced by `*` (db.mapkeys
decides which objects are maps, in one place), so a path holds only fixed schema field names.
Memory is bounded: a message is buffered up to `bound` bytes; a longer one is shaped up to the
bound (its unfinished containers closed) and the shape is marked truncated. Pure code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from dockdrift.db.mapkeys import is_map

BODY_BOUND = 1 << 20  # bytes of one message (a whole body, or one message of a stream)
MAX_PATHS = 2000  # paths per shape; more and the shape is truncated
MAX_DEPTH = 48
ROOT = "."
_TYPES = (("boolean", bool), ("integer", int), ("number", float), ("string", str))


@dataclass(frozen=True, slots=True)
class Shape:
    """A finished shape: `paths` maps each path to its sorted types."""

    paths: dict[str, tuple[str, ...]]
    truncated: bool = False
    stream: bool = False

    def to_json(self) -> str:
        return json.dumps({p: list(t) for p, t in self.paths.items()}, sort_keys=True,
                          separators=(",", ":"))

    @property
    def hash(self) -> str:
        """A stable digest of the paths, types and flags (sha256 hex)."""
        flags = f"{int(self.truncated)}{int(self.stream)}"
        return hashlib.sha256(f"{flags}{self.to_json()}".encode()).hexdigest()


class Paths:
    """A growing union of paths -> types, capped at MAX_PATHS."""

    __slots__ = ("types", "truncated")

    def __init__(self) -> None:
        self.types: dict[str, set[str]] = {}
        self.truncated = False

    def add(self, value: Any) -> None:
        self._walk(value, "", ROOT, None, 0)

    def _see(self, path: str, kind: str) -> bool:
        got = self.types.get(path)
        if got is None:
            if len(self.types) >= MAX_PATHS:
                self.truncated = True
                return False
            self.types[path] = {kind}
        else:
            got.add(kind)
        return True

    def _walk(self, value: Any, prefix: str, path: str, name: str | None, depth: int) -> None:
        if isinstance(value, dict):
            if not self._see(path, "object"):
                return
            if depth >= MAX_DEPTH:
                self.truncated = True
                return
            if is_map(name, value):
                child = f"{prefix}.*"
                for v in value.values():
                    self._walk(v, child, child, None, depth + 1)
            else:
                for k, v in value.items():
                    child = f"{prefix}.{k}"
                    self._walk(v, child, child, k, depth + 1)
        elif isinstance(value, list):
            if not self._see(path, "array"):
                return
            if depth >= MAX_DEPTH:
                self.truncated = True
                return
            child = f"{prefix}[]"
            for v in value:
                self._walk(v, child, child, None, depth + 1)
        elif value is None:
            self._see(path, "null")
        else:
            for kind, cls in _TYPES:
                if isinstance(value, cls):
                    self._see(path, kind)
                    break

    def shape(self, truncated: bool = False, stream: bool = False) -> Shape:
        out = {}
        for p in sorted(self.types):
            kinds = self.types[p]
            if "number" in kinds and "integer" in kinds:
                kinds = kinds - {"integer"}
            out[p] = tuple(sorted(kinds))
        return Shape(out, truncated or self.truncated, stream)


def shape_of(value: Any) -> Shape:
    """The shape of one decoded JSON value."""
    p = Paths()
    p.add(value)
    return p.shape()


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]')


def close_truncated(text: str) -> Any:
    """The longest decodable prefix of a cut JSON document, with its open containers closed:
    `{"a":[1,2,{"b` -> {"a": [1, 2]}. Cut only after `{`, `[` or before a `,`, where what
    precedes is complete. None when no prefix decodes."""
    stack: list[str] = []
    cut, cut_stack = 0, ""
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            continue
        if tok in "{[":
            stack.append("}" if tok == "{" else "]")
            cut, cut_stack = m.end(), "".join(reversed(stack))
        elif tok in "}]":
            if stack:
                stack.pop()
        else:  # a comma: everything before it at this depth is complete
            cut, cut_stack = m.start(), "".join(reversed(stack))
    if not cut:
        return None
    try:
        return json.loads(text[:cut] + cut_stack)
    except ValueError:
        return None


class Shaper:
    """Incremental shaper of one body: `feed(chunk)` as it passes, `finish()` at its end.

    A body may hold one JSON value or, with `stream`, many (NDJSON, concatenated JSON).
    Messages are decoded at line ends (when the line started a message, or closes one at
    column 0, so a pretty-printed document is not re-parsed per line) and at the end. The
    pending bytes never exceed `bound`: a longer message is shaped up to the bound (its open
    containers closed) and the rest of it skipped: to the next line in a stream, to the end
    of a single body. Broken JSON is dropped to the line where it broke.
    """

    __slots__ = ("bound", "stream", "paths", "messages", "truncated", "_buf", "_skip",
                 "_line_fresh", "_line_first")

    def __init__(self, bound: int = BODY_BOUND, stream: bool = False) -> None:
        self.bound = bound
        self.stream = stream
        self.paths = Paths()
        self.messages = 0
        self.truncated = False
        self._buf = bytearray()  # bytes of messages not yet decoded (never more than bound)
        self._skip = False  # inside an over-long message
        self._line_fresh = True  # the current line began with nothing pending
        self._line_first = b""  # the current line's first byte

    def feed(self, chunk: bytes) -> None:
        start, size = 0, len(chunk)
        while start < size:
            nl = chunk.find(b"\n", start)
            end = size if nl < 0 else nl + 1
            if not self._line_first:
                self._line_first = chunk[start:start + 1]
            if self._skip:
                if nl >= 0 and self.stream:
                    self._skip = False  # the over-long line ends here
            elif len(self._buf) + end - start > self.bound:
                self._buf += chunk[start:start + self.bound - len(self._buf)]
                self._cut()
                if nl >= 0 and self.stream:
                    self._skip = False
            else:
                self._buf += chunk[start:end]
                if nl >= 0 and (self._line_fresh or self._line_first in (b"}", b"]")):
                    self._decode(final=False)
            if nl >= 0:  # a new line begins
                self._line_fresh, self._line_first = not self._buf.strip(), b""
            start = end

    def _cut(self) -> None:
        """The pending message is longer than the bound: shape what there is, skip the rest."""
        self._decode(final=True)
        self.truncated, self._skip = True, True
        self._buf = bytearray()

    def _decode(self, final: bool) -> None:
        text = self._buf.decode("utf-8", "replace" if not final else "ignore")
        pos, end = 0, len(text)
        while True:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                self._buf = bytearray()
                return
            try:
                value, pos = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                if exc.pos >= len(text.rstrip()) and not final:
                    break  # incomplete: wait for more
                if final:  # a cut body: shape what decodes
                    value = close_truncated(text[pos:])
                    if value is not None:
                        self._add(value)
                    self.truncated, self._buf = True, bytearray()
                    return
                nl = text.find("\n", exc.pos)  # broken: drop to the end of its line
                if nl < 0:
                    self._buf = bytearray()
                    return
                pos = nl + 1
                continue
            self._add(value)
        self._buf = bytearray(text[pos:].encode())

    def _add(self, value: Any) -> None:
        self.messages += 1
        self.paths.add(value)

    def finish(self) -> Shape | None:
        """The body's shape (None when it held no JSON at all). Idempotent."""
        if self._buf.strip():
            self._decode(final=True)
        self._buf, self._skip = bytearray(), False
        if not self.messages:
            return None
        return self.paths.shape(self.truncated, self.stream or self.messages > 1)


_DECODER = json.JSONDecoder()
