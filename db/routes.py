"""Route matching with gorilla/mux semantics, as Docker Engine, classic Swarm and Podman route.

Optional `/v{version}` prefix, templates anchored, `{name:.*}` greedy (may contain `/`),
`{name}` one segment, matched on the percent-decoded path without the query; the method
must match exactly (HEAD is not GET). First match wins, in table order: the source
document's table, then the Engine tables newest first, then Podman's tables oldest first (a
route keeps the tag it had in older stores).

Podman's rows come last, so a compat request gets the same template whichever server answered
(the matrix lines implementations up by template); only what no Docker table knows (the libpod
API, Podman's typos) is tagged from Podman's table. Its rows match as Podman registers them:
each under its own `/v{version}` pattern or without a prefix (libpod routes only with one),
on the still-encoded path (Podman's router uses `UseEncodedPath`). Its `*` catch-alls (any
method, `PathPrefix`) are not used: they would tag paths Docker answers 404 to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_to_bytes

from dockdrift.db import podman_tables, tables

_VERSION_PREFIX = re.compile(r"/v([0-9][0-9.]*)(/.*)?\Z", re.S)
_VAR = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    api_version: str | None
    route: str | None
    handler: str | None
    source: str | None  # "seed-v1.22", "spec-v1.55", "podman-v4.3.1", ... or None: no table


@lru_cache(maxsize=4096)
def route_shape(route: str) -> str:
    """A template with its variables blanked: `/volumes/{volumename:.*}` -> `/volumes/{}`.

    The tables name and constrain the same variable differently (`{networkid:.*}`,
    `{id:.+}`, `{id}`, Podman's one-segment `{name}`); a route is the same route whatever its
    variables are called or match.
    """
    return _VAR.sub("{}", route)


def template_regex(template: str) -> str:
    """A mux template as an (unanchored) regex with no capturing groups."""
    out, pos = [], 0
    for m in _VAR.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        pattern = m.group(2) or "[^/]+"
        out.append(f"(?:{pattern})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return "".join(out)


def split_version(path: str) -> tuple[str | None, str]:
    """`/v1.41/containers/json` -> ("1.41", "/containers/json")."""
    if not path.startswith("/v"):
        return None, path
    m = _VERSION_PREFIX.match(path)
    if m and m.group(2):
        return m.group(1), m.group(2)
    return None, path


def decode_path(raw_path: str) -> str:
    """Percent-decode like Go's url.Path; bytes that are not UTF-8 stay visible as \\xNN."""
    if "%" not in raw_path:
        return raw_path
    return unquote_to_bytes(raw_path).decode("utf-8", "backslashreplace")


def _first_segment(template: str) -> str | None:
    """`/containers/{name:.*}/json` -> "containers"; None when it holds a variable."""
    seg = template[1:].partition("/")[0] if template.startswith("/") else "{"
    return None if "{" in seg else seg


def _alternation(entries: list) -> tuple[re.Pattern[str], list]:
    alternation = "|".join(f"({template_regex(r)})" for r, _, _ in entries)
    return re.compile(f"(?:{alternation})\\Z", re.S), entries


class Router:
    """Compiled tables: one alternation regex per method, so a match is one regex call."""

    def __init__(self, rows: list[tuple[str, str, str | None, str]]):
        # rows: (method, route, handler, source) in precedence order; duplicates dropped.
        by_method: dict[str, list[tuple[str, str | None, str]]] = {}
        seen: set[tuple[str, str]] = set()
        for method, route, handler, source in rows:
            if (method, route) in seen:
                continue
            seen.add((method, route))
            by_method.setdefault(method, []).append((route, handler, source))
        self._compiled: dict[str, tuple[re.Pattern[str], list[tuple[str, str | None, str]]]] = {}
        # Per method and first path segment, the same alternation cut down to the templates
        # that can match (that literal segment, or a variable one), in the same order: a
        # 4-8x shorter regex on the recorder's hot path. A segment no template names can only
        # match the templates that start with a variable (none, mostly: a libpod path then
        # costs no walk through every Docker template).
        self._by_segment: dict[str, dict[str, tuple[re.Pattern[str], list]]] = {}
        self._other_segment: dict[str, tuple[re.Pattern[str], list] | None] = {}
        for method, entries in by_method.items():
            self._compiled[method] = _alternation(entries)
            segments = {s for e in entries if (s := _first_segment(e[0])) is not None}
            self._by_segment[method] = {
                seg: _alternation([e for e in entries if _first_segment(e[0]) in (seg, None)])
                for seg in segments}
            variable_first = [e for e in entries if _first_segment(e[0]) is None]
            self._other_segment[method] = _alternation(variable_first) if variable_first else None

    def match(self, method: str, path: str) -> RouteMatch:
        """Tag one request: raw path (query string is ignored) -> version, route, handler."""
        path = path.split("?", 1)[0]
        version, rest = split_version(decode_path(path))
        hit = self.match_rest(method, rest)
        return RouteMatch(version, *hit) if hit else RouteMatch(version, None, None, None)

    def match_rest(self, method: str, rest: str) -> tuple[str, str | None, str] | None:
        """(route, handler, source) of the first template matching `rest` (no version prefix)."""
        segment = rest[1:].partition("/")[0]
        by_segment = self._by_segment.get(method)
        if by_segment is None:
            return None
        compiled = by_segment.get(segment) or self._other_segment[method]
        if compiled is not None:
            m = compiled[0].match(rest)
            if m:
                return compiled[1][m.lastindex - 1]  # type: ignore[operator,no-any-return]
        return None

    def templates(self) -> list[tuple[str, str]]:
        return [(m, r) for m, (_, entries) in self._compiled.items() for r, _, _ in entries]


# (method, route, handler, source, versioned pattern or "" , registered without a prefix too)
Registration = tuple[str, str, str | None, str, str, bool]
_SUB_API = "/libpod"


class RegisteredRouter:
    """Rows that say how each route is registered (Podman): under which `/v{version}` pattern,
    and whether also without a prefix. Matches the raw (still-encoded) path, like Podman."""

    def __init__(self, rows: list[Registration]):
        self._rows = rows
        self._profiles = sorted({(r[4], r[5]) for r in rows})
        self._patterns = {p: re.compile(p) for p, _ in self._profiles if p}
        self._routers: dict[frozenset[tuple[str, bool]], tuple[Router, Router | None]] = {}
        self._accepts: dict[str | None, frozenset[tuple[str, bool]]] = {}
        self._by_template: dict[tuple[str, str], set[tuple[str, bool]]] = {}
        for r in rows:
            self._by_template.setdefault((r[0], r[1]), set()).add((r[4], r[5]))

    def _accepting(self, version: str | None) -> frozenset[tuple[str, bool]]:
        """The registrations a request with this version prefix (None: none) can reach."""
        found = self._accepts.get(version)
        if found is None:
            if len(self._accepts) > 1024:  # clients send few versions; stay bounded anyway
                self._accepts.clear()
            found = self._accepts[version] = frozenset(
                p for p in self._profiles
                if (p[1] if version is None else
                    p[0] and self._patterns[p[0]].fullmatch(version) is not None))
        return found

    def match(self, method: str, path: str) -> RouteMatch | None:
        """A RouteMatch for a raw path without its query, or None when no row matches."""
        version, rest = None, path
        if path.startswith("/v"):
            head, sep, tail = path[2:].partition("/")
            if sep and (profiles := self._accepting(head)):
                version, rest = head, "/" + tail
        profiles = self._accepting(version)
        routers = self._routers.get(profiles)
        if routers is None:
            routers = self._routers[profiles] = self._build(profiles)
        plain, sub = routers
        if sub is not None and rest.startswith(_SUB_API + "/"):
            hit = sub.match_rest(method, rest[len(_SUB_API):])
            if hit:
                return RouteMatch(version, _SUB_API + hit[0], *hit[1:])
            return None
        hit = plain.match_rest(method, rest)
        return RouteMatch(version, *hit) if hit else None

    def _build(self, profiles: frozenset[tuple[str, bool]]) -> tuple[Router, Router | None]:
        """Routers for the rows these registrations reach. The ~115 libpod templates all start
        with `/libpod/`: matched without it, keyed by their second segment (a 4x shorter regex).
        Exact while no other template starts with a variable (Podman's do not)."""
        rows = [r[:4] for r in self._rows if (r[4], r[5]) in profiles]
        sub = [(m, r[len(_SUB_API):], h, s) for m, r, h, s in rows if r.startswith(_SUB_API + "/")]
        plain = [row for row in rows if not row[1].startswith(_SUB_API + "/")]
        if not sub or any(_first_segment(r[1]) is None for r in plain):
            return Router(rows), None
        return Router(plain), Router(sub)

    def accepts(self, method: str, route: str, version: str | None) -> bool:
        return bool(self._by_template.get((method, route), set()) & self._accepting(version))

    def templates(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self._rows]


_DOCKER_VERSION = re.compile(r"[0-9][0-9.]*")


class Tagger:
    """The Docker tables first (one Router, as before), then the registered ones (Podman)."""

    def __init__(self, docker: Router, more: list[RegisteredRouter]):
        self.docker, self.more = docker, more
        self._docker_templates = set(docker.templates())

    def match(self, method: str, path: str) -> RouteMatch:
        m = self.docker.match(method, path)
        if m.route is not None:
            return m
        raw = path.split("?", 1)[0]
        for router in self.more:
            hit = router.match(method, raw)
            if hit is not None:
                return hit
        return m

    def templates(self) -> list[tuple[str, str]]:
        """(method, template) in precedence order (Podman's may repeat a Docker template)."""
        return self.docker.templates() + [t for r in self.more for t in r.templates()]

    def accepts(self, method: str, route: str, version: str | None) -> bool:
        """Whether a request with this /v{version} (None: none) can reach that template."""
        docker = (method, route) in self._docker_templates and (
            version is None or _DOCKER_VERSION.fullmatch(version) is not None)
        return docker or any(r.accepts(method, route, version) for r in self.more)


def table_rows() -> list[tuple[str, str, str | None, str]]:
    """The Docker tables' rows (seed, then Engine specs newest first) in precedence order."""
    rows = [(r.method, r.route, r.handler, "seed-v1.22") for r in tables.read_seed()]
    for version in reversed(list(tables.spec_files())):
        rows += [(r.method, r.route, r.handler, f"spec-v{version}")
                 for r in tables.read_spec(version)]
    return rows


def podman_rows(version: str) -> list[Registration]:
    """One Podman table's routable rows: every row but the `*` catch-alls (see module doc)."""
    return [(r.method, r.route, r.handler, r.source, r.versioned, r.unversioned)
            for r in podman_tables.read_podman(version) if r.method != "*"]


@lru_cache(maxsize=1)
def default_router() -> Tagger:
    # Podman's tables oldest first: its releases keep their templates, so a route keeps the
    # tag (and route_source) it had in older stores; a newer release's routes come after.
    podman = [RegisteredRouter(podman_rows(v)) for v in podman_tables.podman_files()]
    return Tagger(Router(table_rows()), podman)


@lru_cache(maxsize=4096)
def match(method: str, path: str) -> RouteMatch:
    """Tag a request with the default tables (seed, Engine specs newest first, then Podman's).

    Cached: clients repeat the same paths (/_ping, /containers/json, one container's calls),
    and a RouteMatch is immutable."""
    return default_router().match(method, path)
