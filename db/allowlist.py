"""Allowlists: which (method, route template) pairs a client may use. No pandas, no mitmproxy.

One policy, three enforcers (`dockdrift capture --enforce`, HAProxy, socket-proxy), so the
rules live here:

- A request is allowed when `db.routes`' Docker router matches it to an allowed (method,
  route): the matcher that tagged the recording (optional `/v{version}` prefix, anchored
  templates, `{name:.*}` may hold `/`, query string ignored, HEAD is not GET, first template
  wins). Routes only Podman's table knows (libpod) are never allowed.
- **A path containing `%` is never allowed.** The daemon percent-decodes the path before it
  routes; HAProxy matches the raw path. Refusing every `%` makes the raw and the decoded path
  the same string, so no encoding (`%2F`, `%2e`, `%6Ason`) can make a regex allow what the
  daemon routes elsewhere. The docker CLI and the SDKs only encode characters that Docker names
  cannot contain, so real traffic does not use `%`.
- `route_regex` is the one derivation of a path regex from a template; `rules` orders those
  regexes like the router, with a deny rule for every refused template that would otherwise be
  shadowed by an allowed one (`/debug/pprof/cmdline` before `/debug/pprof/{name}`).

The JSON file (`dockdrift allowlist --format json`) is the input of `--enforce`.

Rules per client family (`dockdrift allowlist --per-client`): a route entry may list the client
families that used it (`"clients": ["docker-cli"]`); a request whose User-Agent names one of the
listed families (db.clients) then passes only on that family's routes. A User-Agent is what a
client says, so this only ever narrows: a client that lies about its family gets at most the
routes of the whole list, never more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dockdrift.db import routes

FORMAT_VERSION = 1
DENIED_BODY_MAX = 1 << 20  # bytes of a denied request's body read before its 403
VERSION_PREFIX = "(?:/v[0-9][0-9.]*)?"  # db.routes.split_version, as a regex
# A template's variables, as path regexes that never match '%' (see the module docstring).
_VARIABLE_REGEX = {None: "[^/%]+", ".*": "[^%]*", ".+": "[^%]+"}
MESSAGE_MAX = 200


class AllowlistError(ValueError):
    """An allowlist file that cannot be used; the message is one line that says why."""


def docker_router() -> routes.Router:
    """The Docker tables' router (seed, Engine specs): the routes an allowlist can name.
    Podman's own rows (the libpod API) route on the encoded path under per-route version
    patterns; they are never allowed (and counted apart by the export)."""
    router = routes.default_router()
    return getattr(router, "docker", router)


def _escape(text: str) -> str:
    """Escape a literal for PCRE (HAProxy), RE2 (socket-proxy) and Python alike."""
    return "".join(c if c.isalnum() or c in "/_" else "\\" + c for c in text)


def route_regex(template: str) -> str:
    """The anchored path regex of a mux template, as HAProxy, socket-proxy and Python read it.

    `/containers/{name:.*}/json` -> `^(?:/v[0-9][0-9.]*)?/containers/[^%]*/json$`.
    Raises AllowlistError for a variable pattern other than `[^/]+`, `.*` and `.+`."""
    out, pos = [], 0
    for m in routes._VAR.finditer(template):
        if m.group(2) not in _VARIABLE_REGEX:
            raise AllowlistError(f"route {template}: variable pattern {m.group(2)!r} is not "
                                 "supported in an allowlist")
        out += [_escape(template[pos:m.start()]), _VARIABLE_REGEX[m.group(2)]]
        pos = m.end()
    out.append(_escape(template[pos:]))
    return f"^{VERSION_PREFIX}{''.join(out)}$"


# --- which refused templates shadow an allowed one (exact, on the templates themselves) ---

def _atoms(template: str) -> list[tuple[str, str]]:
    """Template -> atoms: ("L", char) literal, ("C", cls) one char, ("S", cls) any run."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in routes._VAR.finditer(template):
        out += [("L", c) for c in template[pos:m.start()]]
        cls = "seg" if m.group(2) is None else "any"
        out += ([("S", cls)] if m.group(2) == ".*" else [("C", cls), ("S", cls)])
        pos = m.end()
    return out + [("L", c) for c in template[pos:]]


def _closure(atoms: list[tuple[str, str]], states: Iterable[int]) -> frozenset[int]:
    seen, todo = set(states), list(states)
    while todo:
        i = todo.pop()
        if i < len(atoms) and atoms[i][0] == "S" and i + 1 not in seen:
            seen.add(i + 1)
            todo.append(i + 1)
    return frozenset(seen)


def _step(atoms: list[tuple[str, str]], states: frozenset[int], c: str) -> frozenset[int]:
    nxt = set()
    for i in states:
        if i == len(atoms):
            continue
        kind, value = atoms[i]
        fits = value == c if kind == "L" else (value == "any" or c != "/") and c != "%"
        if fits:
            nxt.add(i if kind == "S" else i + 1)
    return _closure(atoms, nxt)


@lru_cache(maxsize=4096)
def overlap(a: str, b: str) -> str | None:
    """A path (after the version prefix) both templates match, or None: a breadth-first walk
    of the product of their automata over the characters that matter."""
    xa, xb = _atoms(a), _atoms(b)
    alphabet = sorted({c for k, c in xa + xb if k == "L"} | {"/", "x"})
    start = (_closure(xa, [0]), _closure(xb, [0]))
    seen, todo = {start: ""}, [start]
    while todo:
        state = todo.pop(0)
        if len(xa) in state[0] and len(xb) in state[1]:
            return seen[state]
        for c in alphabet:
            nxt = (_step(xa, state[0], c), _step(xb, state[1], c))
            if nxt[0] and nxt[1] and nxt not in seen:
                seen[nxt] = seen[state] + c
                todo.append(nxt)
    return None


@dataclass(frozen=True, slots=True)
class Rule:
    method: str
    route: str
    allow: bool
    regex: str
    shadows: str | None = None  # for a deny rule: the allowed route it comes before


def rules(allowed: Iterable[tuple[str, str]],
          router: routes.Router | None = None) -> list[Rule]:
    """Allow rules for `allowed`, in the router's precedence order, with a deny rule before
    each allowed route for every refused template that the router would try first on a path
    both match. First matching rule wins, anything else is refused: that is exactly
    `decide` (tests/test_allowlist.py proves it with hypothesis)."""
    wanted = set(allowed)
    by_method: dict[str, list[str]] = {}
    for method, route in (router or docker_router()).templates():
        by_method.setdefault(method, []).append(route)
    out: list[Rule] = []
    for method in sorted(by_method):
        templates = by_method[method]
        allowed_here = [t for t in templates if (method, t) in wanted]
        for i, template in enumerate(templates):
            if (method, template) in wanted:
                out.append(Rule(method, template, True, route_regex(template)))
                continue
            later = [t for t in allowed_here if templates.index(t) > i]
            hit = next((t for t in later if overlap(template, t) is not None), None)
            if hit is not None:
                out.append(Rule(method, template, False, route_regex(template), hit))
    return out


# --- the file and the decision --------------------------------------------------------------

@dataclass(frozen=True)
class Allowlist:
    """The allowed (method, route) pairs and the name of the file they came from."""

    allowed: frozenset[tuple[str, str]]
    name: str = "allowlist"
    # client family -> its own (method, route) pairs; families not named: the whole list
    by_client: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    def decide(self, method: str, raw_path: str, client: str | None = None) -> str | None:
        """None when the request may pass, else the message of the 403 (one line).
        `client`: the family its User-Agent names (db.clients), for the per-client rules."""
        path = raw_path.split("?", 1)[0]
        m = docker_router().match(method, path)
        if m.route is None:
            what = f"{method} {path[:120]} (no Docker API route)"
        elif "%" in path:
            what = f"{method} {m.route} with a percent-encoded path"
        elif (method, m.route) in self.allowed:
            own = self.by_client.get(client) if client else None
            if own is None or (method, m.route) in own:
                return None
            what = f"{method} {m.route} for client {client}"
        else:
            what = f"{method} {m.route}"
        return f"dockdrift: {what} is not allowed by {self.name}"[:MESSAGE_MAX]


def error_body(message: str) -> bytes:
    """The 403's body, shaped like the daemon's own errors."""
    return json.dumps({"message": message}).encode() + b"\n"


def parse(data: object, name: str) -> Allowlist:
    """A decoded JSON document -> Allowlist; AllowlistError (one line) when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        raise AllowlistError(f"{name}: not a dockdrift allowlist (no \"routes\" list); "
                             "make one with dockdrift allowlist --format json")
    if data.get("dockdrift_allowlist", FORMAT_VERSION) != FORMAT_VERSION:
        raise AllowlistError(f"{name}: allowlist format {data.get('dockdrift_allowlist')!r} "
                             f"is not supported (this dockdrift reads {FORMAT_VERSION})")
    known = set(docker_router().templates())
    allowed = set()
    by_client: dict[str, set[tuple[str, str]]] = {}
    for i, entry in enumerate(data["routes"]):
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) for k in ("method", "route")):
            raise AllowlistError(f"{name}: routes[{i}] needs \"method\" and \"route\" strings")
        pair = (entry["method"], entry["route"])
        if pair not in known:
            raise AllowlistError(f"{name}: routes[{i}] {pair[0]} {pair[1]} is not a route "
                                 "dockdrift knows (see dockdrift routes)")
        if "regex" in entry and entry["regex"] != route_regex(pair[1]):
            raise AllowlistError(f"{name}: routes[{i}] regex differs from dockdrift's for "
                                 f"{pair[1]} ({route_regex(pair[1])}); --enforce decides by "
                                 "route: remove or fix the regex")
        allowed.add(pair)
        clients = entry.get("clients")
        if clients is not None:
            if not isinstance(clients, list) or not all(isinstance(c, str) for c in clients):
                raise AllowlistError(f"{name}: routes[{i}] \"clients\" must be a list of "
                                     "client family names")
            for c in clients:
                by_client.setdefault(c, set()).add(pair)
    return Allowlist(frozenset(allowed), name,
                     {c: frozenset(pairs) for c, pairs in by_client.items()})


def load(path: str | Path) -> Allowlist:
    """Read an allowlist file; AllowlistError with one line when it is missing or invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AllowlistError(f"cannot read allowlist {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise AllowlistError(f"allowlist {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AllowlistError(f"allowlist {path} is not valid JSON ({exc})") from None
    return parse(data, path.name)


def reload(path: str | Path, current: Allowlist | None) -> tuple[Allowlist | None, str]:
    """SIGHUP: the file again and a line to log; an invalid file keeps `current`."""
    try:
        fresh = load(path)
    except AllowlistError as exc:
        return current, f"dockdrift: {exc}; keeping the previous allowlist"
    return fresh, f"dockdrift: reloaded {path} ({len(fresh.allowed)} routes)"


def body_too_large(content_length: str | None, transfer_encoding: str | None) -> bool:
    """A denied request the proxy would have to read too much of before answering it:
    chunked, or declared larger than DENIED_BODY_MAX (it is cut off instead)."""
    if transfer_encoding:
        return True
    length = (content_length or "0").strip()
    return not length.isdigit() or int(length) > DENIED_BODY_MAX


def dry_run_error(message: str, error: str | None) -> str:
    """The `error` text of an exchange a dry run let through (db.models.DRY_RUN_PREFIX)."""
    from dockdrift.db.models import DRY_RUN_PREFIX

    return f"{DRY_RUN_PREFIX}: {message}" + (f"; {error}" if error else "")
