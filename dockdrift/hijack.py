"""Make Docker's hijacked connections (101 UPGRADED, `Upgrade: tcp`) keep their half-closes.

mitmproxy turns any close aimed at the peer of a 101 connection into a `*ProtocolError("EOF")`
(proxy/layers/http/__init__.py, HttpStream.passthrough), which its HTTP/1 connections answer
with a full close. The docker CLI half-closes its side as soon as stdin is done and keeps
reading, so the daemon's socket was gone before the container wrote anything: silent data
loss and wrong exit codes. This patch turns exactly that case into a half-close (FIN), which
is what a TCP proxy must do. WebSocket upgrades are left alone.

It patches private names, so it is tested on, and pinned to, the mitmproxy versions in
SUPPORTED; `install()` refuses to run elsewhere rather than lose data quietly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

SUPPORTED = ("11.0.2",)
_MARK = "_dockdrift_half_close"


class UnsupportedMitmproxy(RuntimeError):
    pass


def _is_raw_upgrade(conn: Any) -> bool:
    response = getattr(conn, "response", None)
    return (response is not None and response.status_code == 101
            and response.headers.get("upgrade", "").lower() != "websocket")


def _half_closing(send: Callable[..., Generator], error_type: type) -> Callable[..., Generator]:
    from mitmproxy.proxy import commands

    @functools.wraps(send)
    def patched(self: Any, event: Any) -> Generator:
        if (isinstance(event, error_type) and getattr(event, "message", None) == "EOF"
                and _is_raw_upgrade(self)):
            yield commands.CloseTcpConnection(self.conn, half_close=True)
            return
        yield from send(self, event)

    setattr(patched, _MARK, True)
    return patched


class _QuietTcp:
    """Stands in for the `tcp` module inside mitmproxy's HTTP layer, which uses it only to
    relay a 101 connection. Without a TCPFlow there is no tcp_message hook per chunk: each
    hook paused the layer while the reader kept queueing data, so a 300 MB `docker exec cat`
    grew the proxy by ~100 MB (and the flow kept every chunk). Relayed bytes now see the
    writers' backpressure; the exchange itself is still recorded from its HTTP flow."""

    def __init__(self, tcp: Any) -> None:
        self._tcp = tcp

    def TCPLayer(self, context: Any, ignore: bool = False) -> Any:  # noqa: N802
        return self._tcp.TCPLayer(context, ignore=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tcp, name)


def installed() -> bool:
    from mitmproxy.proxy.layers import http as http_layer
    from mitmproxy.proxy.layers.http import _http1

    return isinstance(http_layer.tcp, _QuietTcp) and all(
        getattr(cls.send, _MARK, False) for cls in (_http1.Http1Client, _http1.Http1Server))


def install() -> None:
    """Patch mitmproxy's HTTP/1 client and server once; idempotent."""
    from mitmproxy import version

    if version.VERSION not in SUPPORTED:
        raise UnsupportedMitmproxy(
            f"dockdrift's hijack fix is tested with mitmproxy {', '.join(SUPPORTED)}, not "
            f"{version.VERSION}: install a supported mitmproxy (pip install 'mitmproxy==11.0.2')")
    from mitmproxy.proxy.layers.http import _http1
    from mitmproxy.proxy.layers.http._events import RequestProtocolError, ResponseProtocolError

    from mitmproxy.proxy.layers import http as http_layer

    if installed():
        return
    if not isinstance(http_layer.tcp, _QuietTcp):
        http_layer.tcp = _QuietTcp(http_layer.tcp)  # type: ignore[assignment]
    if not getattr(_http1.Http1Client.send, _MARK, False):
        setattr(_http1.Http1Client, "send",  # noqa: B010 (a method: mypy forbids assigning)
                _half_closing(_http1.Http1Client.send, RequestProtocolError))
        setattr(_http1.Http1Server, "send",  # noqa: B010
                _half_closing(_http1.Http1Server.send, ResponseProtocolError))


def allow_h2c_upgrades(addons: Any) -> bool:
    """Stop mitmproxy's DisableH2C from stripping `Upgrade: h2c` from requests.

    BuildKit's `POST /session` asks the daemon for exactly that upgrade; stripped, the daemon
    answers 400 "no upgrade proto in request" instead of 101, so the client sees a different
    answer. With the half-close fix the upgraded connection is relayed as raw bytes, which is
    all h2c needs here. The addon stays loaded (removing it while mitmproxy iterates its hook
    chain would skip another addon) and keeps rejecting HTTP/2 prior-knowledge prefaces.
    Returns True if DisableH2C was loaded.
    """
    found = addons.get("disableh2c")
    if found is None:
        return False
    if not getattr(found, _MARK, False):
        original = found.process_flow

        def process_flow(flow: Any) -> None:
            if flow.request.headers.get("upgrade", "") != "h2c":
                original(flow)

        found.process_flow = process_flow
        setattr(found, _MARK, True)
    return True
