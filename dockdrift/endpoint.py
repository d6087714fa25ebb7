"""An address: a unix socket path or a TCP host and port, parsed from the flags' syntax.

Below the proxy side (capture, probe) and the allowlist generators, which all take one.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from dockdrift.errors import UsageError


@dataclass(frozen=True)
class Endpoint:
    """A unix socket path or a TCP host and port."""

    kind: str  # "unix" | "tcp"
    host: str = ""
    port: int = 0
    path: str = ""

    def url(self) -> str:
        if self.kind == "unix":
            return f"unix://{self.path}"
        return f"tcp://{_bracket(self.host)}:{self.port}"

    def spec(self) -> tuple[str, object]:
        """The (kind, where) pair dockdrift.bridge takes."""
        return ("unix", self.path) if self.kind == "unix" else ("tcp", (self.host, self.port))

    @property
    def loopback(self) -> bool:
        return self.kind == "unix" or _is_loopback(self.host)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def parse_endpoint(text: str, option: str, default_port: int | None) -> Endpoint:
    """`unix:///path`, `tcp://host:port`, `host:port` or `[v6]:port` -> Endpoint."""
    bad = (f"bad {option} {text!r}: use unix:///path/to.sock or tcp://HOST:PORT"
           + (" (or HOST:PORT)" if option == "--listen" else ""))
    if text.startswith("unix://"):
        path = text[len("unix://"):]
        if not path.startswith("/"):
            raise UsageError(f"{bad} (the unix socket path must be absolute)")
        return Endpoint("unix", path=path)
    rest = text
    for scheme in ("tcp://", "http://"):
        if text.startswith(scheme):
            rest = text[len(scheme):].rstrip("/")
    if "://" in rest:
        raise UsageError(f"{bad}; {rest.split('://')[0]}:// is not supported"
                         + (" (or ssh://[user@]host[:port])" if option != "--listen" else ""))
    host, sep, port_text = rest.rpartition(":")
    if not sep or "]" in port_text:  # no port given
        host, port_text = rest, ""
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or "/" in host or " " in host:
        raise UsageError(bad)
    if not port_text:
        if default_port is None:
            raise UsageError(f"{bad} (the port is missing)")
        return Endpoint("tcp", host=host, port=default_port)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"{bad} (port must be 0-65535)")
    return Endpoint("tcp", host=host, port=int(port_text))


def same_place(a: Endpoint, b: Endpoint) -> bool:
    """Would connecting to `a` reach a listener bound at `b` (a proxy loop)?"""
    if a.kind != b.kind:
        return False
    if a.kind == "unix":
        return os.path.realpath(a.path) == os.path.realpath(b.path)
    if a.port != b.port:
        return False
    return (a.host == b.host or _is_unspecified(b.host)
            or (_is_loopback(a.host) and _is_loopback(b.host)))
