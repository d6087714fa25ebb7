"""Run probe cases through an in-process recorder (dockdrift capture's own code path).

The recorder (`dockdrift.capture_server.Capture`) runs on its own thread and event loop,
listening on 127.0.0.1:0 in front of the upstream; the cases run on the main thread, so
Ctrl-C and SIGTERM arrive between or inside requests, never inside the recorder. Cleanup runs
in `finally`; a second signal during cleanup aborts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dockdrift.capture import CaptureConfig, Endpoint
from dockdrift.errors import UsageError
from dockdrift.probe.cleanup import Sweep, sweep
from dockdrift.probe.client import Client, Response
from dockdrift.probe.model import Case, Ctx, send_plain


class Aborted(BaseException):
    """A second signal: stop cleaning up."""


@dataclass
class Outcome:
    case: Case
    response: Response
    setup_error: str | None
    seconds: float


class RecorderThread:
    """A Capture on a thread of its own; `start()` returns the port it listens on."""

    def __init__(self, cfg: CaptureConfig) -> None:
        self.cfg, self.cap, self.error = cfg, None, None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),),
                                       name="dockdrift-probe-recorder", daemon=True)

    async def _main(self) -> None:
        from dockdrift.capture_server import Capture

        asyncio.get_running_loop().set_exception_handler(_quiet_cancel)
        self.cap = Capture(self.cfg)
        try:
            await self.cap.start()
        except BaseException as exc:  # handed to the main thread
            self.error = exc
            self.ready.set()
            await self.cap.wait()
            return
        self.ready.set()
        await self.cap.wait()

    def start(self) -> int:
        self.thread.start()
        if not self.ready.wait(60):
            raise UsageError("the recorder did not start within 60 s")
        if self.error is not None:
            raise self.error
        return int(self.cap.master.addons.get("proxyserver").listen_addrs()[0][1])

    def stop(self) -> tuple[int, int]:
        """Stop and wait until every row is committed; (rows stored, rows lost)."""
        if self.cap is not None and self.thread.is_alive():
            with contextlib.suppress(RuntimeError):  # its loop ended meanwhile
                self.cap.stop()
        if self.thread.is_alive():
            self.thread.join(120)
        if self.cap is None:
            return 0, 0
        stored, _, _, lost = self.cap.counts()
        return stored, lost


def _quiet_cancel(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Connections still open when the loop ends are cancelled: not worth a traceback."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


@contextmanager
def closed_port() -> Iterator[str]:
    """A loopback port that is bound but never listens: connecting is refused, for the run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{s.getsockname()[1]}"


def preflight(client: Client, upstream: str, image: str) -> dict[str, Any]:
    """/version (the API version to speak) and the probe image; UsageError if unusable."""
    resp = client.request("GET", "/version", "preflight#setup", version="")
    data = resp.json() if resp.status == 200 else None
    if not isinstance(data, dict) or not data.get("ApiVersion"):
        raise UsageError(f"{upstream} does not answer GET /version like a Docker API "
                         f"({resp.text()}): is --upstream the daemon's address?")
    client.version = str(data["ApiVersion"])
    resp = client.request("GET", f"/images/{image}/json", "preflight#setup")
    if resp.status != 200:
        raise UsageError(f"image {image} is not on {upstream} ({resp.text()}): import it with "
                         f"scripts/import-busybox.sh {upstream} (or `docker import`), or name a "
                         "local image with --image; the probe never pulls")
    return data


def run_case(ctx: Ctx, case: Case) -> Outcome:
    """Setup (a failure is noted, the case is still sent), then the main request."""
    ctx.case, started, setup_error = case.name, time.monotonic(), None
    ctx.vars["at"] = f"-at{case.api.replace('.', '_')}" if case.api else ""
    if case.setup is not None:
        try:
            case.setup(ctx)
        except Exception as exc:  # SetupFailed, or an answer of an unexpected shape
            setup_error = str(exc) or type(exc).__name__
    try:
        resp = (case.send or send_plain)(ctx, case)
    except Exception as exc:
        resp = Response(None, b"", f"{type(exc).__name__}: {exc}")
    return Outcome(case, resp, setup_error, time.monotonic() - started)


def _raise(exc: type[BaseException]) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        raise exc()
    return handler


@dataclass
class Run:
    outcomes: list[Outcome]
    sweep: Sweep | None
    interrupted: bool
    aborted: bool
    stored: int
    lost: int
    seconds: float
    prefix: str
    server: dict[str, Any]


def probe(upstream: Endpoint, db: str, cases: list[Case], image: str,
          progress: Callable[[int, int, Outcome], None]) -> Run:
    """Run `cases` against `upstream`, recording into `db`; always cleans up."""
    run = Run([], None, False, False, 0, 0, 0.0, f"ddprobe-{secrets.token_hex(3)}", {})
    started = time.monotonic()
    rec = RecorderThread(CaptureConfig(upstream, Endpoint("tcp", "127.0.0.1", 0), db,
                                       recorder="dockdrift-probe"))
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, _raise(KeyboardInterrupt))
    try:
        with closed_port() as closed:
            client = Client("127.0.0.1", rec.start())
            ctx = Ctx(client, run.prefix, image=image, closed=closed)
            run.server = preflight(client, upstream.url(), image)
            _cases_then_sweep(ctx, cases, progress, run, old)
    finally:
        for sig in old:  # stopping the recorder commits every row; it is quick
            signal.signal(sig, signal.SIG_IGN)
        run.stored, run.lost = rec.stop()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    run.seconds = time.monotonic() - started
    return run


def _cases_then_sweep(ctx: Ctx, cases: list[Case], progress: Callable[[int, int, Outcome], None],
                      run: Run, signals: dict[int, Any]) -> None:
    """The cases until done or interrupted; then the sweep, which a second signal aborts."""
    try:
        for case, (i, n) in zip(cases, numbered(cases), strict=True):
            run.outcomes.append(run_case(ctx, case))
            progress(i, n, run.outcomes[-1])
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        for sig in signals:
            signal.signal(sig, _raise(Aborted))
        try:
            run.sweep = sweep(ctx)
        except Aborted:
            run.aborted = True


def numbered(cases: list[Case]) -> list[tuple[int, int]]:
    """(i, n) of each case within its pass: the daemon's own version, then each --api-version."""
    sizes: dict[str | None, int] = {}
    for c in cases:
        sizes[c.api] = sizes.get(c.api, 0) + 1
    seen: dict[str | None, int] = {}
    out = []
    for c in cases:
        seen[c.api] = seen.get(c.api, 0) + 1
        out.append((seen[c.api], sizes[c.api]))
    return out


def line(i: int, n: int, out: Outcome, width: int) -> str:
    """`[ 12/63] stop-stopped-container  POST /containers/{name:.*}/stop  304`"""
    case = out.case
    text = f"[{i:>{len(str(n))}}/{n}] {case.name:<{width}}  {case.method} {case.route}  "
    text += out.response.text()
    if out.setup_error:
        text += f"  (setup failed: {out.setup_error})"
    return text


def print_progress(width: int) -> Callable[[int, int, Outcome], None]:
    def show(i: int, n: int, out: Outcome) -> None:
        print(line(i, n, out, width), file=sys.stderr, flush=True)
    return show
