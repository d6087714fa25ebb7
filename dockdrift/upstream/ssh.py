"""ssh://[user@]host[:port][/socket]: the daemon reached the way the docker CLI reaches it.

For every client connection the docker CLI runs `ssh … -- host docker system dial-stdio` and
speaks HTTP over the process's stdin/stdout; so does `SshBridge`. The system `ssh` does the
work (its config, keys, agent, known_hosts, ControlMaster if you configure one); dockdrift adds
`BatchMode=yes`, so it never asks for a password or a host key confirmation: it fails instead.

A client's half-close (EOF) closes ssh's stdin, which ssh passes on as a channel EOF and
dial-stdio as a CloseWrite to the daemon; ssh's stdout EOF becomes a half-close towards the
client. The connection closes when both directions are done, as in dockdrift.bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dockdrift.bridge import Bridge, WRITE_HIGH_WATER, _Accepted, _Pipe
from dockdrift.errors import UsageError

SSH = "ssh"
CONNECT_TIMEOUT = 30  # seconds, as the docker CLI sets it


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str = ""
    port: int | None = None
    socket: str = ""  # the daemon socket on the remote host ("" = the remote's default)

    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}{self.socket}"

    def command(self, *remote: str) -> list[str]:
        """The ssh command line; `remote` defaults to `docker system dial-stdio`."""
        args = [SSH, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}", "-T"]
        if self.user:
            args += ["-l", self.user]
        if self.port:
            args += ["-p", str(self.port)]
        docker = ["docker", *([f"--host=unix://{self.socket}"] if self.socket else [])]
        return [*args, "--", self.host, *(remote or (*docker, "system", "dial-stdio"))]


def parse(text: str, source: str) -> SshTarget:
    """`ssh://[user@]host[:port][/path]` -> SshTarget (the docker CLI's rules)."""
    bad = f"bad {source} {text!r}: use ssh://[user@]host[:port]"
    try:
        u = urlsplit(text)
        port = u.port
    except ValueError:
        raise UsageError(f"{bad} (port must be 1-65535)") from None
    if u.scheme != "ssh" or not u.hostname:
        raise UsageError(bad)
    if u.password is not None:
        raise UsageError(f"{bad}: a password in the URL is not supported; use a key "
                         "(ssh-agent or ~/.ssh/config)")
    if u.query or u.fragment:
        raise UsageError(f"{bad} (no ?query or #fragment)")
    if port == 0:
        raise UsageError(f"{bad} (port must be 1-65535)")
    return SshTarget(u.hostname, u.username or "", port, u.path if u.path != "/" else "")


def preflight(target: SshTarget, timeout: float = CONNECT_TIMEOUT + 10) -> None:
    """Ask the remote daemon `GET /_ping` over ssh once; UsageError (one line) if that fails."""
    request = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
    try:
        r = subprocess.run(target.command(), input=request, capture_output=True,
                           timeout=timeout)
    except FileNotFoundError:
        raise UsageError("ssh:// needs the ssh client: install openssh-client") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"no answer from the daemon over {target.url()} within "
                         f"{timeout:.0f}s") from None
    if r.stdout.startswith(b"HTTP/1.1 200"):
        return
    raise UsageError(failure(target, r.returncode, r.stderr, r.stdout))


def failure(target: SshTarget, code: int | None, stderr: bytes, stdout: bytes = b"") -> str:
    """One line: what went wrong reaching the daemon over ssh, and what to check."""
    lines = [x.strip() for x in stderr.decode(errors="replace").splitlines() if x.strip()]
    said = lines[-1] if lines else (f"ssh exited with {code}" if code else "no answer")
    user = f"{target.user}@" if target.user else ""
    port = f"-p {target.port} " if target.port else ""
    if code == 255:  # ssh itself: unreachable host, refused key, unknown host key
        return (f"cannot reach {target.url()} over ssh: {said} (dockdrift runs ssh with "
                f"BatchMode=yes: `ssh {port}{user}{target.host} docker version` must work "
                "without a prompt)")
    if code == 127 or "command not found" in said or "not found" in said.lower():
        return f"{target.url()}: the remote host has no docker CLI on its PATH ({said})"
    head = stdout.split(b"\r\n", 1)[0].decode(errors="replace")
    return (f"the daemon behind {target.url()} did not answer /_ping "
            f"({head or said}): is dockerd running there, and may this user use it?")


def _signal(proc: asyncio.SubprocessTransport, sig: int) -> None:
    """Signal a running ssh with os.kill: Popen.terminate()/kill() poll() first, which can
    reap the process under asyncio's child watcher ("Unknown child process" warnings). Until
    the watcher reaps it, the pid stays ours (at worst a zombie), so it cannot be reused."""
    pid = proc.get_pid()
    if proc.get_returncode() is None and pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class _SshTransport:
    """The transport face of one ssh process, as dockdrift.bridge._Pipe expects it."""

    def __init__(self, transport: asyncio.SubprocessTransport) -> None:
        self.proc = transport
        self.stdin: Any = transport.get_pipe_transport(0)
        self.stdout: Any = transport.get_pipe_transport(1)
        self._closing = False

    def write(self, data: bytes) -> None:
        if not self.stdin.is_closing():
            self.stdin.write(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if not self.stdin.is_closing():
            self.stdin.write_eof()  # ssh sends the channel EOF; dial-stdio a CloseWrite

    def set_write_buffer_limits(self, high: int) -> None:
        self.stdin.set_write_buffer_limits(high=high)

    def pause_reading(self) -> None:
        self.stdout.pause_reading()

    def resume_reading(self) -> None:
        self.stdout.resume_reading()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self.stdin.close()
            _signal(self.proc, signal.SIGTERM)


class _SshSide(asyncio.SubprocessProtocol):
    """Feeds one ssh process's stdout into a _Pipe whose peer is the accepted client."""

    def __init__(self, bridge: SshBridge, client: _Accepted) -> None:
        self.bridge, self.client = bridge, client
        self.pipe = _Pipe(client)
        self.stderr = b""
        self.got_data = False
        self.stdout_done = False
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        face = _SshTransport(transport)
        face.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self.pipe.transport = face  # type: ignore[assignment]

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 2:
            self.stderr = (self.stderr + data)[-4096:]
            return
        if not self.got_data:
            self.got_data = True
            self.bridge._reachable()
        self.pipe.data_received(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1 and not self.stdout_done:
            self.stdout_done = True
            if not self.pipe.eof_received():
                assert self.pipe.transport is not None
                self.pipe.transport.close()

    def pause_writing(self) -> None:
        self.pipe.pause_writing()

    def resume_writing(self) -> None:
        self.pipe.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        # after the process exited and all its pipes closed: nothing of stdout is left behind
        assert self.pipe.transport is not None
        code = self.pipe.transport.proc.get_returncode()  # type: ignore[attr-defined]
        if not self.got_data and code:
            lines = [x for x in self.stderr.decode(errors="replace").splitlines() if x.strip()]
            self.bridge.ssh_failed(lines[-1].strip() if lines else f"ssh exited with {code}")
        self.pipe.connection_lost(None)  # closes the client (after what it was sent)
        if not self.finished.done():
            self.finished.set_result(None)


class SshBridge(Bridge):
    """A Bridge whose upstream connections are `ssh … docker system dial-stdio` processes."""

    def __init__(self, target: SshTarget, *, same_user_only: bool = False) -> None:
        super().__init__(("ssh", target.url()), same_user_only=same_user_only)
        self.target = target
        self.sides: set[_SshSide] = set()

    async def _open(self, client: _Accepted) -> tuple[Any, _Pipe]:
        loop = asyncio.get_running_loop()
        transport, side = await loop.subprocess_exec(
            lambda: _SshSide(self, client), *self.target.command(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)  # Ctrl-C on the capture's terminal is not ssh's
        self.sides.add(side)
        side.finished.add_done_callback(lambda _: self.sides.discard(side))
        return side.pipe.transport, side.pipe

    def _opened(self) -> None:
        pass  # reachable only once the remote daemon sent something (see _SshSide)

    def ssh_failed(self, said: str) -> None:
        """An ssh process ended with an error before the daemon said anything."""
        self.failures += 1
        self.down = f"{self.target.url()}: {said}"
        if not self._warned:
            self._warned = True
            self.log_down(self.down)

    async def close(self) -> None:
        """Stop serving, end every ssh process and wait (briefly) until each is reaped."""
        await super().close()
        sides = list(self.sides)
        for side in sides:
            assert side.pipe.transport is not None
            _signal(side.pipe.transport.proc, signal.SIGKILL)  # type: ignore[attr-defined]
        if sides:
            await asyncio.wait([s.finished for s in sides], timeout=5)


__all__ = ["SshBridge", "SshTarget", "WRITE_HIGH_WATER", "failure", "parse", "preflight"]
