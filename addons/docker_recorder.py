"""mitmproxy addon: record every Docker API exchange into the dockdrift store.

    mitmdump -s addons/docker_recorder.py --mode reverse:http://127.0.0.1:2375 -p 2376 \
        --set dockdrift_db=dockdrift.sqlite

Thin by design: hooks stream every body (no buffering, or `docker run` deadlocks on /wait),
copy what they saw into a tuple and hand it (with the bytes of the bodies extractors read) to
the writer process (db.sink), which builds the row, derives shapes and writes. Nothing here
parses a body or blocks the loop; SQLAlchemy is not even imported in the proxy's process.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import itertools
import signal
import socket
import ssl
import time

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy.mode_specs import ProxyMode

try:
    import dockdrift.db  # noqa: F401
except ImportError as exc:  # mitmdump's Python lacks dockdrift: say so instead of a traceback
    raise ImportError("dockdrift's recorder needs dockdrift installed in mitmdump's Python "
                      "(pip install dockdrift into the same environment, or run "
                      "`dockdrift capture`)") from exc

from dockdrift.db import allowlist
from dockdrift.db.clients import identify
from dockdrift.db.exchange import Body
from dockdrift.db.implementations import TARGET_NAMES
from dockdrift.db.sink import ProcessWriter, SinkError
from dockdrift.db.streams import Counter, outcome_kind
from dockdrift.db.target import TargetTracker, upstream_url_from_mode
from dockdrift import hijack, peers, tap

log = logging.getLogger("dockdrift")
TARGETS = ("auto", *TARGET_NAMES)
# `dockdrift probe` names the case of each request in this header; the recorder takes it off
# before the request goes upstream, so the daemon sees exactly what a client would send.
PROBE_CASE_HEADER = b"x-dockdrift-probe-case"
PROBE_CASE_MAX = 64
# mitmproxy's options for TLS towards the upstream (tlsconfig's); the target probe follows them
TLS_OPTIONS = ("client_certs", "ssl_verify_upstream_trusted_ca", "ssl_insecure")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def remote_listen_hosts(modes: list[str], listen_host: str) -> list[str]:
    """The addresses the proxy would listen on that are not loopback ("" = all interfaces)."""
    hosts = []
    for spec in modes:
        try:
            host = ProxyMode.parse(spec).listen_host(listen_host)
        except ValueError:
            continue  # mitmproxy's proxyserver reports a bad mode itself
        if not is_loopback(host):
            hosts.append(host or "*")
    return hosts


class _OneLineOptionsErrors(logging.Filter):
    """mitmproxy logs a script's OptionsError with a traceback; a user mistake gets one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, exceptions.OptionsError):
            record.msg, record.args = f"dockdrift: {exc}", None
            record.exc_info, record.exc_text = None, None
        return True


_SCRIPT_LOG = logging.getLogger("mitmproxy.addons.script")


def quiet_cancelled_tasks() -> None:
    """At shutdown asyncio cancels mitmproxy's per-client tasks and its stream callbacks log
    each CancelledError with a traceback (mitmproxy 11.0, kept-alive clients): a clean stop
    must print none. Other errors still reach the previous handler."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    previous = loop.get_exception_handler()

    if getattr(previous, "dockdrift_quiet", False):
        return  # a script reload: ours is already in place

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.dockdrift_quiet = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


def _header(headers: http.Headers, name: bytes) -> str | None:
    """`headers.get(name)` (values folded with ", "), without mitmproxy's per-field key
    conversions: a third of the recorder's own time per exchange before (benchmarks/hooks.py).
    A plain loop: no list or generator objects per call."""
    found = None
    for k, v in headers.fields:
        if k.lower() == name:
            found = v if found is None else found + b", " + v
    return None if found is None else found.decode("utf-8", "surrogateescape")


def _two_headers(headers: http.Headers, first: bytes,
                 second: bytes) -> tuple[str | None, str | None]:
    """`_header` of two names in one pass over the fields (each hook wants two)."""
    a = b = None
    for k, v in headers.fields:
        k = k.lower()
        if k == first:
            a = v if a is None else a + b", " + v
        elif k == second:
            b = v if b is None else b + b", " + v
    return (None if a is None else a.decode("utf-8", "surrogateescape"),
            None if b is None else b.decode("utf-8", "surrogateescape"))


def _method(raw: bytes) -> str:
    """`flow.request.method` (decoded, upper-cased) without the property's lookups."""
    return raw.decode("utf-8", "surrogateescape").upper()


def take_probe_case(headers: http.Headers) -> str | None:
    """Remove dockdrift's probe-case header (if any) and return its value, capped."""
    fields = headers.fields
    for k, _ in fields:
        if k.lower() == PROBE_CASE_HEADER:
            break
    else:
        return None
    value = _header(headers, PROBE_CASE_HEADER)
    headers.fields = tuple((k, v) for k, v in fields if k.lower() != PROBE_CASE_HEADER)
    return value[:PROBE_CASE_MAX] if value else None


class DockerRecorder:
    def __init__(self) -> None:
        self.writer: ProcessWriter | None = None
        self.tracker = TargetTracker()
        self.tracker.on_identity = self._identified
        self._keys = itertools.count(1)  # joins a flow's body blocks to its record
        self.shapes = True
        self.in_flight: dict[str, http.HTTPFlow] = {}
        self.recorded = 0
        self.recorder_name: str | None = None
        self._log_filter: logging.Filter | None = None
        self.allowlist: allowlist.Allowlist | None = None
        self._sighup: asyncio.AbstractEventLoop | None = None  # the loop that has our SIGHUP
        self.peers: dict[str, peers.Peer] = {}  # client connection id -> the process behind it

    def load(self, loader) -> None:
        hijack.allow_h2c_upgrades(ctx.master.addons)  # BuildKit's POST /session, before any flow
        quiet_cancelled_tasks()
        self._log_filter = _OneLineOptionsErrors()
        _SCRIPT_LOG.addFilter(self._log_filter)
        loader.add_option("dockdrift_db", str, "dockdrift.sqlite",
                          "Where to record: a SQLite path or any SQLAlchemy URL.")
        loader.add_option("dockdrift_target", str, "auto",
                          "The upstream kind: auto (detect), engine, swarm or podman.")
        loader.add_option("dockdrift_recorder", str, "",
                          "This recorder's name, stored with each exchange (default: the "
                          "host name).")
        loader.add_option("dockdrift_batch_size", int, 500, "Rows per INSERT batch.")
        loader.add_option("dockdrift_max_queue", int, 100_000,
                          "Rows that may wait for the store before new ones are refused (loudly).")
        loader.add_option("dockdrift_shapes", bool, True,
                          "Derive the shape of JSON bodies (field paths and types, never "
                          "values) in the writer process.")
        loader.add_option("dockdrift_enforce", str, "",
                          "An allowlist JSON (dockdrift allowlist --format json): other "
                          "requests get 403 and never reach the daemon. Reloaded on SIGHUP.")
        loader.add_option("dockdrift_enforce_dry_run", bool, False,
                          "With dockdrift_enforce: let every request through and only record "
                          "what would have been denied.")
        loader.add_option("dockdrift_allow_remote", bool, False,
                          "Allow a non-loopback listen address. Whoever can connect to the "
                          "proxy controls the Docker daemon (root on the host).")

    def configure(self, updated: set[str]) -> None:
        if "dockdrift_target" in updated and ctx.options.dockdrift_target not in TARGETS:
            raise exceptions.OptionsError(
                f"dockdrift_target must be one of {', '.join(TARGETS)}, "
                f"not {ctx.options.dockdrift_target!r}")
        if updated & {"dockdrift_target", "mode", *TLS_OPTIONS}:
            self._configure_tracker()
        if "dockdrift_shapes" in updated:  # read per exchange: options are slow to read
            self.shapes = ctx.options.dockdrift_shapes
        if "dockdrift_recorder" in updated:
            self.recorder_name = (ctx.options.dockdrift_recorder or socket.gethostname())[:128]
        if updated & {"listen_host", "mode", "dockdrift_allow_remote"}:
            self._check_listen()
        if updated & {"dockdrift_db", "dockdrift_batch_size", "dockdrift_max_queue",
                      "dockdrift_shapes"}:
            self._open_store()
        if "dockdrift_enforce" in updated:
            self._load_allowlist()
        if "connection_strategy" in ctx.options and ctx.options.connection_strategy != "lazy":
            # Eager connects drop a client with no HTTP exchange when the upstream is down,
            # so nothing could be recorded; lazy lets the request arrive and fail visibly.
            ctx.options.update(connection_strategy="lazy")
        try:
            hijack.install()
        except hijack.UnsupportedMitmproxy as exc:
            raise exceptions.OptionsError(str(exc)) from None

    def _configure_tracker(self) -> None:
        """The target probe asks the upstream itself: over TLS for reverse:https://."""
        found = upstream_url_from_mode(ctx.options.mode)
        tls = None
        if found and found[0] == "https":
            try:
                tls = self.probe_tls(found[1])
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise exceptions.OptionsError(f"the upstream's TLS options: {exc}") from None
        self.tracker.configure(ctx.options.dockdrift_target,
                               (found[1], found[2]) if found else None, tls,
                               f"{found[0]}://{found[1]}:{found[2]}" if found else "")

    def probe_tls(self, host: str) -> ssl.SSLContext:
        """mitmproxy's own upstream TLS options (client_certs, ssl_verify_upstream_trusted_ca,
        ssl_insecure) as a Python ssl context: the probe trusts what the proxy trusts."""
        from dockdrift.upstream.tls import context_from_mitm_options

        return context_from_mitm_options(ctx.options, host)

    def _check_listen(self) -> None:
        """Loopback only unless dockdrift_allow_remote: mitmproxy's default is every interface."""
        if "listen_host" not in ctx.options or ctx.options.dockdrift_allow_remote:
            return
        # check before changing anything: an OptionsError inside our own update would roll
        # it back and call configure again, forever
        remote = remote_listen_hosts(ctx.options.mode, ctx.options.listen_host or "127.0.0.1")
        if remote:
            raise exceptions.OptionsError(
                f"refusing to listen on {', '.join(remote)}: anyone who reaches the proxy "
                "controls the Docker daemon; listen on 127.0.0.1, or add "
                "--set dockdrift_allow_remote=true if you really mean it")
        if not ctx.options.listen_host:
            ctx.options.update(listen_host="127.0.0.1")

    def _open_store(self) -> None:
        if ctx.options.dockdrift_batch_size < 1 or ctx.options.dockdrift_max_queue < 1:
            raise exceptions.OptionsError("dockdrift_batch_size and dockdrift_max_queue must be >= 1")
        try:
            fresh = ProcessWriter(ctx.options.dockdrift_db,
                                  batch_size=ctx.options.dockdrift_batch_size,
                                  max_queue=ctx.options.dockdrift_max_queue,
                                  shapes=ctx.options.dockdrift_shapes)
        except SinkError as exc:
            raise exceptions.OptionsError(f"dockdrift_db: {exc}") from None
        old, self.writer = self.writer, fresh
        if old is not None:
            old.close()
        if self.tracker.detected is not None:  # known already (a capture asked, a reload)
            self._identified(None)

    def _identified(self, found) -> None:
        """The target tracker identified the upstream: the writer's rows say so from now."""
        if self.writer is not None:
            self.writer.identity(found or self.tracker.last_identity)

    def _load_allowlist(self) -> None:
        path = ctx.options.dockdrift_enforce
        try:
            self.allowlist = allowlist.load(path) if path else None
        except allowlist.AllowlistError as exc:
            raise exceptions.OptionsError(f"dockdrift_enforce: {exc}") from None

    def reload_allowlist(self) -> None:
        """SIGHUP: read the file again; an invalid one is reported and the old list kept."""
        if ctx.options.dockdrift_enforce:
            fresh, line = allowlist.reload(ctx.options.dockdrift_enforce, self.allowlist)
            (log.warning if fresh is self.allowlist else log.info)(line)
            self.allowlist = fresh

    def running(self) -> None:
        if self.tracker.detected is None:  # `dockdrift capture` asked already (probe_now)
            self.tracker.probe_soon()
        if self._sighup is None:
            try:
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGHUP, self.reload_allowlist)
                self._sighup = loop
            except (RuntimeError, ValueError, NotImplementedError):
                pass  # not the main thread: no reload on SIGHUP

    async def client_connected(self, client) -> None:
        """Who is behind this connection, asked of the kernel once (off the event loop)."""
        self.peers[client.id] = await asyncio.to_thread(peers.lookup, client.peername,
                                                        client.sockname)

    def client_disconnected(self, client) -> None:
        self.peers.pop(client.id, None)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        conn = flow.client_conn
        # a bridged unix client is registered before its first byte reaches us
        peer = peers.BRIDGED.get(conn.peername[:2] if conn.peername else None) or (
            self.peers.get(conn.id))
        if peer is not None and peer.uid is not None:  # ids and names, for db.clients' extractor
            flow.metadata.setdefault("dockdrift_facts", {}).update(peer.fields())
        if self.writer is None:
            # After `done` mitmproxy still serves open connections until its loop ends:
            # refuse rather than answer a request that can no longer be recorded.
            flow.kill()
            return
        req = flow.request
        ua, ctype = _two_headers(req.headers, b"user-agent", b"content-type")
        flow.metadata["dockdrift_ua"] = ua
        if not self.shapes:
            ctype = None
        req.stream = tap.request_tap(self.writer, self._key(flow), ctype, True) \
            if tap.is_json(ctype) else Counter()
        case = take_probe_case(req.headers)
        if case is not None:
            flow.metadata["dockdrift_probe_case"] = case
        self.in_flight[flow.id] = flow
        if self.allowlist is not None:
            self._enforce(flow, self.allowlist)

    def _enforce(self, flow: http.HTTPFlow, policy: allowlist.Allowlist) -> None:
        client = (identify(_header(flow.request.headers, b"user-agent"))[0]
                  if policy.by_client else None)
        message = policy.decide(flow.request.method,
                                flow.request.data.path.decode("utf-8", "backslashreplace"),
                                client)
        if message is None:
            return
        if ctx.options.dockdrift_enforce_dry_run:
            flow.metadata["dockdrift_would_deny"] = message
            return
        flow.metadata["dockdrift_denied"] = message
        flow.request.stream = False  # mitmproxy cannot answer early while streaming upstream
        if allowlist.body_too_large(_header(flow.request.headers, b"content-length"),
                                    _header(flow.request.headers, b"transfer-encoding")):
            # mitmproxy reads a request's whole body before it can answer it here: a large
            # or unknown-size upload (load, build, cp) is cut off instead, memory stays flat
            flow.metadata["dockdrift_denied"] = f"{message} (connection closed: large body)"
            flow.kill()
            return
        # A response set here is sent without connecting upstream: the daemon never sees it.
        flow.response = http.Response.make(403, allowlist.error_body(message),
                                           {"Content-Type": "application/json"})

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        if self.writer is None:  # stored at `done` without a status: do not deliver it now
            flow.kill()
            return
        if "dockdrift_denied" in flow.metadata:
            return  # our own 403, already in memory
        path, resp = flow.request.path, flow.response
        server, ctype = _two_headers(resp.headers, b"server", b"content-type")
        flow.metadata["dockdrift_server"] = server
        resp.stream = tap.response_tap(
            self.writer, self._key(flow), resp.status_code,
            outcome_kind(_method(flow.request.data.method), path), self.tracker.wants_body(path),
            ctype, path, self.shapes)

    def _key(self, flow: http.HTTPFlow) -> int:
        key = flow.metadata.get("dockdrift_key")
        if key is None:
            key = flow.metadata["dockdrift_key"] = next(self._keys)
        return key

    def response(self, flow: http.HTTPFlow) -> None:
        self._record(flow, None)

    def error(self, flow: http.HTTPFlow) -> None:
        self._record(flow, flow.error.msg if flow.error else "unknown proxy error")

    def done(self) -> None:
        for flow in list(self.in_flight.values()):
            self._record(flow, "proxy stopped before the exchange ended")
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.tracker.close()
        if self._sighup is not None and not self._sighup.is_closed():
            self._sighup.remove_signal_handler(signal.SIGHUP)
        self._sighup = None
        if self._log_filter is not None:
            _SCRIPT_LOG.removeFilter(self._log_filter)
            self._log_filter = None

    def _record(self, flow: http.HTTPFlow, error: str | None) -> None:
        if self.in_flight.pop(flow.id, None) is None or self.writer is None:
            return
        req, resp = flow.request, flow.response
        data = req.data
        out = resp.stream if resp is not None and isinstance(resp.stream, Counter) else None
        inp = req.stream if isinstance(req.stream, Counter) else None
        status = resp.status_code if resp is not None and resp.timestamp_start else None
        meta = flow.metadata
        server = meta.get("dockdrift_server") if "dockdrift_server" in meta else (
            _header(resp.headers, b"server") if resp is not None else None)
        if status is not None:
            self.tracker.answered()
        elif error is not None:
            self.tracker.upstream_failed()
        peer = flow.client_conn.peername
        denied, would = flow.metadata.get("dockdrift_denied"), flow.metadata.get(
            "dockdrift_would_deny")
        if denied is not None and status is None:  # cut off: say so, not "killed"
            error = denied
        if would is not None:  # the server answered: its status stays a server code
            error = allowlist.dry_run_error(would, error)
        response = tap.handover(out)
        if denied is not None:  # our own 403: its text is the error message
            response = (Body(status), allowlist.error_body(denied), False)
        self.writer.submit((
            flow.metadata.get("dockdrift_key", 0), _method(data.method), data.path,
            data.timestamp_start,
            resp.timestamp_end if resp is not None and resp.timestamp_end else time.time(),
            status, error, inp.n if inp else len(data.content or b""),
            out.n if out else None,
            meta["dockdrift_ua"] if "dockdrift_ua" in meta else _header(req.headers, b"user-agent"),
            server,
            peer[0] if peer else None, flow.metadata.get("dockdrift_probe_case"),
            self.recorder_name, denied is not None,
            tap.handover(inp) or _NO_BODY, response or _NO_BODY,
            flow.metadata.get("dockdrift_facts")))
        self.recorded += 1


_NO_BODY = (Body(), b"", False)
addons = [DockerRecorder()]
