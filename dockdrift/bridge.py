"""A byte pipe between a unix socket and TCP, for what mitmproxy cannot do itself.

mitmproxy can neither reverse-proxy to a unix socket (mitmproxy issue 1936) nor listen on one
(issue 7072), and Docker's default endpoint is `/var/run/docker.sock`. A `Bridge` accepts on
one endpoint and connects every client to the other, copying bytes both ways.

Docker's hijacked connections (attach, exec) half-close when stdin ends and keep reading, so
an EOF on one side becomes `write_eof()` on the other, and a connection closes only when both
directions are done (or one side fails). Built on asyncio protocols, not streams: a chunk costs
one `data_received` and one `transport.write`; back-pressure pauses the reading side instead.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import stat
from typing import Any

log = logging.getLogger("dockdrift")
WRITE_HIGH_WATER = 4 * 1024 * 1024  # bytes buffered towards a slow peer before reads pause


def peer_uid(peer: object, local: object) -> int | None:
    """The uid owning the client end of a local TCP connection (Linux /proc), else None.

    A loopback TCP hop is reachable by every local user; with a 0600 unix socket in front,
    the hops behind it admit only the capture's own user, like the socket itself.
    """
    if not (isinstance(peer, tuple) and isinstance(local, tuple)):
        return None
    from dockdrift.peers import tcp_entry

    found = tcp_entry(int(peer[1]), int(local[1]))
    return found[0] if found else None


def same_user(peer: object, local: object) -> bool:
    return peer_uid(peer, local) == os.getuid()


class _Pipe(asyncio.Protocol):
    """One side of a bridged connection; `peer` is the other side's protocol."""

    def __init__(self, peer: _Pipe | None = None) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.eof = False  # this side sent its EOF (nothing more will be read from it)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.peer.transport is not None
        self.peer.transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        peer = self.peer
        if peer is None or peer.transport is None:
            return False
        if peer.eof:  # both directions are done
            peer.transport.close()
            return False
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
        return True  # keep our write side open: the peer may still answer

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    # Back-pressure: our write buffer is full -> stop reading from the peer.
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Accepted(_Pipe):
    """The accepted client: holds its reads until the upstream connection exists."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.hop: tuple[str, int] | None = None  # our upstream end, while registered (peers)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.hop is not None:
            from dockdrift.peers import BRIDGED

            BRIDGED.pop(self.hop, None)
            self.hop = None
        super().connection_lost(exc)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()
        self.bridge._spawn(self)


class Bridge:
    """Accept on a TCP or unix endpoint and pipe every connection to `upstream`.

    `upstream` is `("unix", path)` or `("tcp", (host, port))`. Tasks that open upstream
    connections are kept in `tasks` until they finish (asyncio only keeps weak references).
    `same_user_only`: refuse TCP clients owned by another local user (see peer_uid).
    """

    def __init__(self, upstream: tuple[str, object], *, same_user_only: bool = False) -> None:
        self.upstream = upstream
        self.same_user_only = same_user_only
        self.refused = 0
        self.down: str | None = None  # why the upstream is unreachable, while it is
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.base_events.Server | None = None
        self.failures = 0
        self._warned = False
        self._unix_path: str | None = None

    async def listen_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Listen on host:port (0 = any free port); returns the bound address."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Accepted(self), host, port,
                                               reuse_address=True)
        return self.server.sockets[0].getsockname()[:2]

    async def listen_unix(self, sock: socket.socket) -> None:
        """Serve on a unix socket made by `bind_unix` (removed again by `close`)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_unix_server(lambda: _Accepted(self), sock=sock)
        self._unix_path = sock.getsockname()

    def _spawn(self, client: _Accepted) -> None:
        task = asyncio.get_running_loop().create_task(self._connect(client))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect(self, client: _Accepted) -> None:
        if self.same_user_only and not self._admitted(client):
            return
        try:
            transport, upstream = await self._open(client)
        except OSError as exc:
            self._failed(exc)
            if client.transport is not None:
                client.transport.close()
            return
        self._opened()
        if client.transport is None or client.transport.is_closing():
            transport.close()  # the client went away while we were connecting
            return
        client.peer = upstream
        client.transport.resume_reading()

    async def _open(self, client: _Accepted) -> tuple[Any, _Pipe]:
        """Connect the upstream side of `client` (raises OSError); subclasses add kinds."""
        loop = asyncio.get_running_loop()
        kind, where = self.upstream
        if kind == "unix":
            return await loop.create_unix_connection(lambda: _Pipe(client), str(where))
        host, port = where  # type: ignore[misc]
        return await loop.create_connection(lambda: _Pipe(client), host, port)

    def _opened(self) -> None:
        self._reachable()

    def _reachable(self) -> None:
        if self._warned:
            log.warning("dockdrift: upstream %s reachable again", describe(self.upstream))
            self._warned = False
        self.down = None

    def _admitted(self, client: _Accepted) -> bool:
        assert client.transport is not None
        info = client.transport.get_extra_info
        if same_user(info("peername"), info("sockname")):
            return True
        self.refused += 1
        if self.refused == 1:
            log.warning("dockdrift: refused a connection from another user to %s",
                        describe(("tcp", info("sockname")[:2])))
        client.transport.abort()
        return False

    def _failed(self, exc: OSError) -> None:
        """Log the first failure of a run of failures, not one line per connection."""
        self.failures += 1
        self.down = f"{describe(self.upstream)}: {exc.strerror or exc}"
        if not self._warned:
            self._warned = True
            self.log_down(f"{describe(self.upstream)} ({exc.strerror or exc})")

    def log_down(self, why: str) -> None:
        log.warning("dockdrift: cannot connect to upstream %s; clients are disconnected until "
                    "it is back", why)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        if self._unix_path:
            try:
                os.unlink(self._unix_path)
            except OSError:
                pass



class PeerBridge(Bridge):
    """A unix-socket front: remembers who connected (SO_PEERCRED) under the address of the
    loopback hop it opens for them, so the recorder behind names the process, not the bridge."""

    async def _open(self, client: _Accepted) -> tuple[Any, _Pipe]:
        from dockdrift.peers import BRIDGED, from_unix_socket

        transport, upstream = await super()._open(client)
        sock, hop = (client.transport.get_extra_info("socket") if client.transport else None,
                     transport.get_extra_info("sockname"))
        peer = from_unix_socket(sock) if sock is not None else None
        if peer is not None and isinstance(hop, tuple):
            client.hop = (str(hop[0]), int(hop[1]))
            BRIDGED[client.hop] = peer
        return transport, upstream


def describe(endpoint: tuple[str, object]) -> str:
    kind, where = endpoint
    if kind == "unix":
        return f"unix://{where}"
    if kind == "ssh":
        return str(where)
    host, port = where  # type: ignore[misc]
    return f"tcp://{'[' + host + ']' if ':' in host else host}:{port}"


def bind_unix(path: str, mode: int = 0o600) -> socket.socket:
    """Bind a unix socket at `path` with `mode`; replaces a stale socket, never a live one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(errno.EEXIST, f"{path} exists and is not a socket")
        if _unix_alive(path):
            raise OSError(errno.EADDRINUSE, f"{path} is in use")
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)  # the socket file is born with `mode`: no chmod race
    try:
        sock.bind(path)
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old)
    os.chmod(path, mode)
    sock.listen(socket.SOMAXCONN)
    sock.setblocking(False)
    return sock


def _unix_alive(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(path)
            return True
        except OSError:
            return False
