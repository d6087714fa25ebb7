"""Which server is upstream: a Docker Engine, a classic Swarm manager or Podman, and its version.

Asked of the upstream itself (GET /version once at start, and again after the upstream came
back from a failure), and refined by any /version or /info answer that passes the proxy.
A response's own `Server` header is not enough: Swarm copies the engine's on proxied answers,
and the Engine's 404 for an unknown route has none.
"""

from __future__ import annotations

import http.client
import logging
import re
import ssl
import threading
from collections.abc import Callable
from functools import lru_cache

from dockdrift.db.implementations import Identity, from_server_header, from_version_body

log = logging.getLogger("dockdrift")
_IDENTITY_PATH = re.compile(r"(/v[0-9.]+)?/(version|info)(\?.*)?\Z")


@lru_cache(maxsize=64)
def _server_header(header: str | None) -> tuple[str, str] | None:
    """from_server_header, cached: an upstream sends the same Server header every time."""
    return from_server_header(header)


def upstream_from_mode(modes: object) -> tuple[str, int] | None:
    """mitmproxy's mode option (`reverse:http://127.0.0.1:2375`) -> (host, port) for plain http."""
    found = upstream_url_from_mode(modes)
    return (found[1], found[2]) if found and found[0] == "http" else None


def upstream_url_from_mode(modes: object) -> tuple[str, str, int] | None:
    """`reverse:http(s)://host:port` -> (scheme, host, port); https is the TLS upstream."""
    for mode in modes if isinstance(modes, (list, tuple)) else [modes]:
        m = re.match(r"reverse:(https?)://\[?([^\]/]+?)\]?:(\d+)/?(@.*)?\Z", str(mode))
        if m:
            return m.group(1), m.group(2), int(m.group(3))
    return None


class TargetTracker:
    def __init__(self) -> None:
        self.forced: str | None = None
        self.detected: str | None = None
        self.identity: str | None = None
        self.version: str | None = None
        self.min_api_version: str | None = None  # /version's MinAPIVersion: the API floor
        self.last_identity: Identity | None = None
        self.on_identity: Callable[[Identity], None] | None = None  # told each identification
        self.upstream: tuple[str, int] | None = None
        self.tls: ssl.SSLContext | None = None  # the probe speaks TLS to a TLS upstream
        self.name = ""  # how the log names the upstream (ssh://…, tcp://…)
        self._stale = False
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def configure(self, option: str, upstream: tuple[str, int] | None,
                  tls: ssl.SSLContext | None = None, name: str = "") -> None:
        self.forced = None if option == "auto" else option
        self.upstream, self.tls, self.name = upstream, tls, name

    def kind(self, server_header: str | None) -> str | None:
        return self.kind_and_version(server_header)[0]

    def target_version(self, server_header: str | None) -> str | None:
        """The implementation's version: what /version said, else the Server header's."""
        return self.kind_and_version(server_header)[1]

    def kind_and_version(self, server_header: str | None) -> tuple[str | None, str | None]:
        """The upstream's kind (forced, else detected, else the Server header's) and its
        version (/version's when that is the kind, else the header's when it names the same
        kind), in one call: the recorder asks for both per exchange."""
        found = _server_header(server_header)
        kind = self.forced or self.detected or (found[0] if found else None)
        if self.detected and self.detected == kind:
            return kind, self.version
        return kind, (found[1] if found and found[0] == kind else None)

    def floor(self, kind: str | None) -> str | None:
        """The upstream's API floor, for exchanges of the kind /version named (not a forced
        or header-only kind: their floor is unknown)."""
        return self.min_api_version if kind is not None and kind == self.detected else None

    def wants_body(self, path: str) -> bool:
        if "/version" not in path and "/info" not in path:  # most traffic: no regex
            return False
        return _IDENTITY_PATH.match(path) is not None

    def observe(self, method: str, path: str, status: int, body_head: bytes,
                server_header: str | None = None) -> None:
        """Passive detection from a /version or /info answer that passed the proxy."""
        if method == "GET" and status == 200 and self.wants_body(path):
            found = from_version_body(body_head, server_header)
            if found:
                self._set(found)
        if status is not None:
            self.answered()

    def answered(self) -> None:
        """The upstream answered: ask it again who it is if it had failed before."""
        if self._stale:
            self._stale = False
            self.probe_soon()

    def upstream_failed(self) -> None:
        self._stale = True  # re-ask the upstream once it answers again (it may have changed)

    def probe_soon(self) -> None:
        if self.upstream is None:
            return  # (a forced kind is still asked: the answer gives its version)
        t = threading.Thread(target=self._probe, name="dockdrift-probe", daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def probe_now(self) -> bool:
        """Ask the upstream now (blocking): a capture does it before it prints the address
        clients use, so no answer is stored before the kind and version are known (answers
        without a Server header, such as Podman's 405s and 101s, would have no target).
        Returns whether it was identified."""
        if self.upstream is None:
            return False
        self._probe()
        return self.detected is not None

    def _probe(self) -> None:
        assert self.upstream is not None
        host, port = self.upstream
        try:
            conn = (http.client.HTTPSConnection(host, port, timeout=15, context=self.tls)
                    if self.tls is not None else http.client.HTTPConnection(host, port, timeout=15))
            conn.request("GET", "/version", headers={"User-Agent": "dockdrift-probe"})
            resp = conn.getresponse()
            body = resp.read(65536)
            server = resp.getheader("Server")
            conn.close()
        except OSError as exc:
            log.info("dockdrift: could not ask %s:%s which server it is (%s); will ask again",
                     host, port, exc)
            self._stale = True
            return
        found = from_version_body(body, server)
        if found:
            self._set(found)

    def _set(self, found: Identity, quiet: bool = False) -> None:
        with self._lock:
            floor = found.min_api_version
            if floor is None and (found.kind, found.server) == (self.detected, self.identity):
                floor = self.min_api_version  # an /info body: the floor /version gave stays
            resolved = Identity(found.kind, found.version, found.server, floor)
            if (found.kind, found.server, floor) != (self.detected, self.identity,
                                                     self.min_api_version) and not quiet:
                log.info("dockdrift: upstream %sis %s (%s)", f"{self.name} " if self.name else "",
                         resolved.implementation, found.server)
            self.detected, self.identity, self.version = found.kind, found.server, found.version
            self.min_api_version = floor
            self.last_identity = resolved
        if self.on_identity is not None:
            self.on_identity(resolved)

    def close(self) -> None:
        for t in self._threads:
            t.join(timeout=1)
        self._threads.clear()
