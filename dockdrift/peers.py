"""The process behind a client connection, from the kernel: never from anything the client sends.

"Who is using my Docker socket?" A unix socket tells it directly (SO_PEERCRED: pid, uid, gid
of the connecting process). A loopback TCP connection tells it through /proc: the client's
end appears in /proc/net/tcp (local = the client's port, remote = our listening port) with
its socket inode, and the process holding that inode has it among its /proc/PID/fd links.
Only ids and names are kept: pid, uid, /proc/PID/comm and /proc/PID/exe.

`dockdrift capture --listen unix://...` bridges the unix socket to its own loopback listener:
the TCP peer mitmproxy sees is then the bridge itself, so the bridge registers the SO_PEERCRED
of each accepted client under its hop's address (`BRIDGED`) and the lookup reads that first.
Scanning /proc takes tens of milliseconds: callers run `lookup` in a thread, once per connection.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import asdict, dataclass

PROCESS_MAX, EXE_MAX = 128, 256  # exchanges.peer_process / peer_exe


@dataclass(frozen=True)
class Peer:
    pid: int | None
    uid: int | None
    process: str | None  # /proc/PID/comm, e.g. docker
    exe: str | None  # /proc/PID/exe, e.g. /usr/local/bin/docker

    def fields(self) -> dict[str, object]:
        """The `exchanges` columns."""
        return {f"peer_{k}": v for k, v in asdict(self).items()}


NO_PEER = Peer(None, None, None, None)
# (host, port) of a bridge's loopback hop -> the process behind the unix socket it accepted.
BRIDGED: dict[tuple[str, int], Peer] = {}


def describe_process(pid: int, uid: int | None) -> Peer:
    """pid -> Peer with its name and executable, as far as /proc lets us read them."""
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            comm: str | None = f.read().strip()[:PROCESS_MAX] or None
    except OSError:
        comm = None
    try:
        exe: str | None = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")[:EXE_MAX]
    except OSError:
        exe = None
    return Peer(pid, uid, comm, exe)


def from_unix_socket(sock: socket.socket) -> Peer | None:
    """SO_PEERCRED of a connected unix socket (Linux), else None."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None or sock.family != socket.AF_UNIX:
        return None
    try:
        pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, opt,
                                                             struct.calcsize("3i")))
    except OSError:
        return None
    return describe_process(pid, uid) if pid > 0 else Peer(None, uid, None, None)


def tcp_entry(peer_port: int, local_port: int) -> tuple[int, int] | None:
    """(uid, inode) of the client end (local = peer_port, remote = local_port), else None."""
    client, server = f":{peer_port:04X}", f":{local_port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(client) and fields[2].endswith(server):
                        return int(fields[7]), int(fields[9])
        except (OSError, IndexError, ValueError):
            continue
    return None


def _holder(inode: int) -> int | None:
    """The pid of a process holding socket `inode` (the first found), else None."""
    link = f"socket:[{inode}]"
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{name}/fd/{fd}") == link:
                    return int(name)
            except OSError:
                continue
    return None


def loopback_tcp(peer: tuple, local: tuple) -> Peer | None:
    """The process at the other end of a loopback TCP connection, where /proc tells it."""
    found = tcp_entry(int(peer[1]), int(local[1]))
    if found is None:
        return None
    uid, inode = found
    pid = _holder(inode) if inode else None
    return describe_process(pid, uid) if pid is not None else Peer(None, uid, None, None)


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1") or host.startswith(("127.", "::ffff:127."))


def lookup(peer: object, local: object) -> Peer:
    """Who is behind a client connection mitmproxy accepted (peername, sockname).

    A bridged hop (capture --listen unix://) -> the process behind the unix socket; another
    loopback TCP connection -> /proc; anything else (a remote client) -> NO_PEER."""
    if not (isinstance(peer, tuple) and isinstance(local, tuple) and len(peer) >= 2):
        return NO_PEER
    key = (str(peer[0]), int(peer[1]))
    if key in BRIDGED:
        return BRIDGED[key]
    if not is_loopback(key[0]) or not os.path.exists("/proc/net/tcp"):
        return NO_PEER
    found = loopback_tcp(peer, local)
    if found is not None and found.pid == os.getpid():
        # our own bridge, whose registration we missed: say nothing rather than name ourselves
        return BRIDGED.get(key, NO_PEER)
    return found or NO_PEER
