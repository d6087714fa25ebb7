"""The in-process proxy behind `dockdrift capture`: bridges, a lean mitmproxy, the recorder.

mitmdump loads ~35 addons and mitmproxy calls every one of them (twice: the hook, then
`update`) for each of a flow's hooks. A reverse proxy that records needs three: the proxy
server, next_layer (HTTP vs raw TCP) and the recorder (plus, behind a unix listen socket,
a gate that admits only our own uid).
tlsconfig is added only for a TLS upstream (with the client certificate set on each
connection by dockdrift.upstream.tls), dockdrift.upstream.listen's own TLS addon only for
--listen-tls. Left out on purpose: disable_h2c (it would strip
BuildKit's `Upgrade: h2c`, which the hijack fix passes through as a raw upgrade),
the dumper, script loader, replay, blocklist and friends.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockdrift.addon_path import addon_path
from dockdrift.bridge import Bridge, PeerBridge, bind_unix, same_user
from dockdrift.capture import CaptureConfig, client_url, listen_error
from dockdrift.errors import UsageError

log = logging.getLogger("dockdrift")


def recorder_class() -> type:
    """The addon's DockerRecorder, loaded by path like mitmdump -s does (dockdrift.addon_path:
    the installed dockdrift/addons/ copy, or a checkout's addons/)."""
    spec = importlib.util.spec_from_file_location("dockdrift_docker_recorder", addon_path())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    base: type = module.DockerRecorder

    class CaptureRecorder(base):  # type: ignore[misc, valid-type]
        """The recorder plus what the command shows: proxy errors and 'running'."""

        def __init__(self) -> None:
            super().__init__()
            self.proxy_errors = 0
            self.upstream_down: Callable[[], str | None] = lambda: None
            self.probe_context: Any = None  # ssl context of a TLS upstream (from the capture)
            self.upstream_name = ""
            self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def probe_tls(self, host: str) -> Any:
            return self.probe_context if self.probe_context is not None else (
                super().probe_tls(host))

        def _configure_tracker(self) -> None:
            super()._configure_tracker()
            self.tracker.name = self.upstream_name or self.tracker.name

        def running(self) -> None:
            super().running()
            if not self.started.done():
                self.started.set_result(None)

        def error(self, flow: Any) -> None:
            self.proxy_errors += 1
            down = self.upstream_down()
            if down and flow.error and flow.response is None:
                # mitmproxy only saw the bridge hang up; say why the socket refused
                flow.error.msg = f"cannot connect to upstream {down} ({flow.error.msg})"
            super().error(flow)

    return CaptureRecorder


class FrontGate:
    """mitmproxy addon: behind a 0600 unix socket, its loopback listener serves only our uid."""

    def client_connected(self, client: Any) -> None:
        if not same_user(client.peername, client.sockname):
            client.error = "refused: another user's connection to a unix-socket-only capture"


class Capture:
    """One capture: `await start()` (raises UsageError), `stop()`, `await wait()`."""

    def __init__(self, cfg: CaptureConfig) -> None:
        self.cfg = cfg
        self.bridges: list[Bridge] = []
        self.upstream_bridge: Bridge | None = None
        self.master: Any = None
        self.recorder: Any = None
        self.writer: Any = None
        self.url = ""
        self.confdir: Any = None
        self._run: asyncio.Task[None] | None = None

    async def start(self) -> None:
        cfg = self.cfg
        front_sock = self._bind_front() if cfg.listen.kind == "unix" else None
        try:
            private = front_sock is not None  # then every loopback hop is for our uid only
            up = (cfg.upstream.host, cfg.upstream.port)
            if cfg.ssh is not None:
                from dockdrift.upstream.ssh import SshBridge

                self.upstream_bridge = SshBridge(cfg.ssh, same_user_only=private)
                self.bridges.append(self.upstream_bridge)
                up = await self.upstream_bridge.listen_tcp("127.0.0.1", 0)
            elif cfg.upstream.kind == "unix":
                self.upstream_bridge = Bridge(cfg.upstream.spec(), same_user_only=private)
                self.bridges.append(self.upstream_bridge)
                up = await self.upstream_bridge.listen_tcp("127.0.0.1", 0)
            listen = ("127.0.0.1", 0) if private else (cfg.listen.host, cfg.listen.port)
            self._make_master(up, listen, private)
            # who is upstream, before any client can send a request (see probe_now)
            await asyncio.to_thread(self.recorder.tracker.probe_now)
            await self._start_master(listen)
            bound = self.master.addons.get("proxyserver").listen_addrs()[0]
            if front_sock is not None:
                front = PeerBridge(("tcp", ("127.0.0.1", bound[1])))  # names who connects
                self.bridges.append(front)
                await front.listen_unix(front_sock)
        except BaseException:
            if front_sock is not None:  # not served yet: leave no socket file behind
                front_sock.close()
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(cfg.listen.path)
            raise
        self.url = client_url(cfg.listen, bound)

    def _bind_front(self) -> socket.socket:
        """The unix listen socket, bound before any thread exists (bind_unix sets the umask)."""
        if not Path("/proc/net/tcp").exists():
            raise UsageError("--listen unix:// needs Linux (/proc) to keep the loopback hops "
                             "behind the socket private: listen on 127.0.0.1:PORT instead")
        try:
            return bind_unix(self.cfg.listen.path)
        except OSError as exc:
            raise UsageError(listen_error(self.cfg.listen, exc)) from None

    def _make_master(self, up: tuple[str, int], listen: tuple[str, int], private: bool) -> None:
        from mitmproxy import exceptions, master, options
        from mitmproxy.addons import next_layer, proxyserver

        cfg, opts = self.cfg, options.Options()
        self.master = master.Master(opts, event_loop=asyncio.get_running_loop())
        self.recorder = recorder_class()()
        self.recorder.upstream_name = cfg.upstream_url
        if (bridge := self.upstream_bridge) is not None:
            self.recorder.upstream_down = lambda: bridge.down
        before, after, tls_options = self._tls(up[0])
        self.master.addons.add(proxyserver.Proxyserver(), *before, next_layer.NextLayer(),
                               *after, *([FrontGate()] if private else []), self.recorder)
        host = f"[{up[0]}]" if ":" in up[0] else up[0]
        scheme = "https" if cfg.tls is not None else "http"
        # The store first, on its own: a bad one failing inside opts.update below would make
        # mitmproxy roll the options back, and the addon would open ./dockdrift.sqlite instead.
        from dockdrift.db.engine import make_engine

        make_engine(cfg.db).dispose()
        try:
            opts.update(mode=[f"reverse:{scheme}://{host}:{up[1]}"], listen_host=listen[0],
                        listen_port=listen[1], connection_strategy="lazy",
                        dockdrift_db=cfg.db, dockdrift_target=cfg.target,
                        dockdrift_allow_remote=cfg.allow_remote,
                        dockdrift_recorder=cfg.recorder, dockdrift_enforce=cfg.enforce,
                        dockdrift_enforce_dry_run=cfg.dry_run, **tls_options)
        except exceptions.OptionsError as exc:
            raise UsageError(str(exc).removeprefix("dockdrift_db: ")) from None
        self.writer = self.recorder.writer

    def _tls(self, host: str) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """(addons before next_layer, addons after it, options) for what speaks TLS here."""
        cfg = self.cfg
        before: list[Any] = []
        if cfg.listen_tls is not None:
            from dockdrift.upstream.listen import ListenTls

            before.append(ListenTls(cfg.listen_tls))  # before next_layer: refuses plain text
        if cfg.tls is None:
            return before, [], {}
        import tempfile

        from mitmproxy.addons import tlsconfig

        from dockdrift.upstream import tls

        self.recorder.probe_context = tls.client_context(cfg.tls, host)
        # tlsconfig makes a CA in its confdir as soon as it is added: a private one, removed
        # at exit (never ~/.mitmproxy), set before the addon exists
        self.confdir = tempfile.TemporaryDirectory(prefix="dockdrift-mitm-")
        self.master.options.update(confdir=self.confdir.name)
        return before, [tlsconfig.TlsConfig(), tls.UpstreamClientCert(cfg.tls)], (
            tls.mitm_options(cfg.tls))

    async def _start_master(self, listen: tuple[str, int]) -> None:
        errors, mitm_log = _Collect(), logging.getLogger("mitmproxy")
        mitm_log.addHandler(errors)
        mitm_log.propagate = False  # a failure to listen becomes one UsageError line
        try:
            self._run = asyncio.get_running_loop().create_task(self.master.run())
            await asyncio.wait([self._run, self.recorder.started],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            mitm_log.removeHandler(errors)
            mitm_log.propagate = True
        if not self.master.addons.get("proxyserver").listen_addrs():
            self.stop()
            await self.wait()
            where = f"{listen[0]}:{listen[1]}"
            raise UsageError(errors.first or f"mitmproxy could not listen on {where}")

    def stop(self) -> None:
        if self.master is not None:
            self.master.shutdown()

    async def wait(self) -> None:
        """Until stopped; the recorder's `done` hook has committed every row on return."""
        if self._run is not None:
            await self._run
        for bridge in self.bridges:
            await bridge.close()
        if self.confdir is not None:
            self.confdir.cleanup()
            self.confdir = None

    def counts(self) -> tuple[int, int, int, int]:
        """(committed, pending, proxy errors, not stored)."""
        rec, w = self.recorder, self.writer
        written, dropped = (w.written, w.dropped) if w is not None else (0, 0)
        return written, max(0, rec.recorded - written - dropped), rec.proxy_errors, dropped


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is None:
            self.first = record.getMessage().splitlines()[0]


class _Stderr(logging.Handler):
    """Log lines on stderr; on a terminal they first erase the live status line."""

    def __init__(self, status: bool) -> None:
        super().__init__()
        self.prefix = "\r\x1b[K" if status else ""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"{self.prefix}{record.getMessage()}\n")
        sys.stderr.flush()


async def _show_status(cap: Capture) -> None:
    while True:
        stored, pending, errors, lost = cap.counts()
        line = f"dockdrift capture: {stored} recorded, {pending} pending, {errors} proxy errors"
        sys.stderr.write(f"\r\x1b[K{line}{f', {lost} NOT stored' if lost else ''}")
        sys.stderr.flush()
        await asyncio.sleep(0.5)


async def serve(cfg: CaptureConfig) -> int:
    """Run a capture until SIGINT/SIGTERM; print the export line once it listens."""
    handler = _Stderr(cfg.status)
    root, ours = logging.getLogger(), logging.getLogger("dockdrift")
    root.addHandler(handler)
    ours.setLevel(logging.INFO)
    loop = asyncio.get_running_loop()
    cap = Capture(cfg)
    try:
        try:
            await cap.start()
        except BaseException:
            await cap.wait()
            raise
        from dockdrift.upstream import client_lines

        print("\n".join(client_lines(cap.url, dict(os.environ), cfg.listen_tls is not None)),
              flush=True)
        how = f" over {cfg.tls.describe()}" if cfg.tls is not None else ""
        if cfg.upstream_source.startswith("context"):
            how = f" ({cfg.upstream_source}){how}"
        print(f"dockdrift capture: recording {cfg.upstream_url}{how} into {cfg.db}"
              f"{' (clients: TLS, certificates required)' if cfg.listen_tls else ''}; "
              "stop with Ctrl-C", file=sys.stderr, flush=True)
        if cfg.enforce:
            mode = "dry run, nothing refused" if cfg.dry_run else "others get 403"
            print(f"dockdrift capture: enforcing {cfg.enforce} ({mode}); SIGHUP reloads it",
                  file=sys.stderr, flush=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _on_signal, loop, cap)
        status = loop.create_task(_show_status(cap)) if cfg.status else None
        await cap.wait()
        if status is not None:
            status.cancel()
            sys.stderr.write("\r\x1b[K")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        root.removeHandler(handler)
    stored, _, errors, lost = cap.counts()
    print(f"dockdrift capture: stopped; {stored} exchanges recorded in {cfg.db} "
          f"({errors} proxy errors)", file=sys.stderr)
    if lost:
        print(f"dockdrift capture: {lost} exchanges could NOT be stored", file=sys.stderr)
    return 1 if lost else 0


def _on_signal(loop: asyncio.AbstractEventLoop, cap: Capture) -> None:
    """First signal: stop cleanly (commit everything). A second one: Python's default."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    cap.stop()
