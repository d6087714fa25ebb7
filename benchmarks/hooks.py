"""The recorder's own cost per exchange, without sockets: its hooks fed with mitmproxy's tflows.

Two numbers: the event-loop part (requestheaders, responseheaders, the stream callables,
response: what delays the proxy) and the proxy process's whole part (the loop plus the sender
thread that pickles records for the writer process; the rows, shapes and INSERTs happen in that
other process, whose CPU per exchange is the third number). CPU-bound and far less noisy than
a throughput run on a shared machine; `--profile` prints where the loop time goes (cProfile).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# One path in six names a new container each time (a route-cache miss), as in real traffic.
PATHS = (b"/_ping", b"/v1.41/containers/json", b"/v1.41/containers/dockdrift-missing/json",
         b"/v1.41/volumes", b"/v1.41/containers/%012x/json?size=1",
         b"/v1.41/images/library/ubuntu:22.04/json")


def _load_addon():
    sys.path.insert(0, str(ROOT))
    import importlib.util

    spec = importlib.util.spec_from_file_location("docker_recorder",
                                                  ROOT / "addons" / "docker_recorder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DockerRecorder()


def _flows(n: int) -> list:
    from mitmproxy import http
    from mitmproxy.test import tflow, tutils

    out = []
    for i in range(n):
        path = PATHS[i % len(PATHS)]
        path = path % i if b"%" in path else path
        missing = b"missing" in path
        f = tflow.tflow(req=tutils.treq(path=path, headers=http.Headers(
            host="127.0.0.1:2376", user_agent="Docker-Client/28.2.2 (linux)")))
        f.response = tutils.tresp(status_code=404 if missing else 200, headers=http.Headers(
            server="Docker/20.10.24+dfsg1 (linux)", content_type="application/json"))
        f.response.timestamp_end = f.response.timestamp_start + 0.002
        out.append(f)
    return out


def _drive(addon, flows: list) -> None:
    body = b'{"message":"No such container: dockdrift-missing"}'
    for f in flows:
        addon.requestheaders(f)
        f.request.stream(b"")
        addon.responseheaders(f)
        f.response.stream(body)
        addon.response(f)


def measure(n: int = 5000, profile: bool = False) -> dict:
    """Per-exchange cost of the recorder's hooks (loop) and of its writer (thread), in µs."""
    from mitmproxy.test import taddons

    addon = _load_addon()
    with tempfile.TemporaryDirectory() as tmp, taddons.context(addon) as tctx:
        tctx.configure(addon, dockdrift_db=str(Path(tmp) / "hooks.sqlite"),
                       mode=["reverse:http://127.0.0.1:9"])
        _drive(addon, _flows(200))  # warm caches
        addon.writer.flush()
        flows = _flows(n)
        prof = cProfile.Profile() if profile else None
        writer = addon.writer
        child0 = _cpu_of(writer._proc.pid)
        t0 = time.process_time()
        if prof:
            prof.enable()
        _drive(addon, flows)
        if prof:
            prof.disable()
        loop_s = time.process_time() - t0
        writer.flush(120)
        total_s = time.process_time() - t0
        result = {"exchanges": n, "hooks_us": loop_s / n * 1e6,
                  "hooks_plus_writer_us": total_s / n * 1e6,
                  "writer_us": (_cpu_of(writer._proc.pid) - child0) / n * 1e6}
        addon.done()
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        result["profile"] = buf.getvalue()
    return result


def _cpu_of(pid: int) -> float:
    """CPU seconds of another process (the writer), every thread, in nanoseconds' resolution
    (/proc/PID/task/*/schedstat; clock ticks would round a short run to 0)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


if __name__ == "__main__":
    r = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5000, profile="--profile" in sys.argv)
    print(r.pop("profile", ""))
    print(r)
