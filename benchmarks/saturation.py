"""Throughput at saturation, alternated setups: small requests (wrk) and stream-heavy builds.

Setups: `bare` (mitmdump streaming every body, benchmarks/stream_only.py), `addon` (the
recorder), `noshapes` (the recorder with `dockdrift_shapes=false`), `noscan` (the recorder
without in-stream parsing, benchmarks/addon_noscan.py; on request). The proxy's CPU is the
mitmdump process's own; the recorder's writer process (rows, shapes, INSERTs) is reported
apart as `writer_cpu_*`.
Each round runs every setup once, in turn (ABC ABC ...), so a load that comes and goes on a
shared machine hits all of them; ratios are medians of per-round ratios.

- small: `wrk -t2 -c16 -d<duration>s` on `GET /v1.41/_ping` (the brief's saturation load)
- stream: `streams` concurrent legacy builds whose RUN prints `mb` MB (~5000 JSON messages per
  MB, every one through the recorder's scanner) and then fails (no image is left behind);
  throughput in MB/s of stream relayed, and the proxy's CPU per MB

    python benchmarks/run.py saturation --rounds 5 --duration 10
"""

from __future__ import annotations

import http.client
import io
import re
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.recording import UPSTREAM, Setup, _command, _free_port, _wait_port, cpu_seconds
from benchmarks.recording import stop as stop_setup

ROOT = Path(__file__).resolve().parents[1]
SETUPS = ("bare", "addon", "noshapes")


def start(name: str, workdir: Path) -> Setup:
    port, db = _free_port(), workdir / f"{name}.sqlite"
    log = workdir / f"{name}.log"
    cmd = _command("addon" if name != "bare" else "bare", port, db)
    if name == "noshapes":
        cmd += ["--set", "dockdrift_shapes=false"]
    if name == "noscan":
        cmd[cmd.index(str(ROOT / "addons" / "docker_recorder.py"))] = \
            str(ROOT / "benchmarks" / "addon_noscan.py")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        _wait_port(port, proc, log)
    except BaseException:  # a setup that never answered leaves no mitmdump behind
        proc.kill()
        proc.wait()
        raise
    return Setup(name, port, proc, db if name != "bare" else None)


def _writer_cpu(pid: int) -> float:
    """CPU seconds of the proxy's child processes still running (the recorder's writer)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for kid in (task / "children").read_text().split():
            try:
                total += cpu_seconds(int(kid))
            except OSError:
                pass
    return total


def wrk(port: int, duration: float, threads: int = 2, connections: int = 16,
        path: str = "/v1.41/_ping") -> tuple[float, int]:
    """(requests per second, requests) that wrk reached (it sends as fast as answered)."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:.0f}s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         timeout=duration + 60, check=True).stdout
    m, n = re.search(r"Requests/sec:\s+([\d.]+)", out), re.search(r"(\d+) requests in", out)
    assert m and n, out
    return float(m.group(1)), int(n.group(1))


def _context(mb: int) -> bytes:
    dockerfile = (f"FROM busybox:local\nRUN head -c {mb * 1_000_000} /dev/zero | tr '\\0' x | "
                  "fold -w 199 && exit 1\n").encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    return buf.getvalue()


def _build(port: int, context: bytes, out: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1.41/build?nocache=1&rm=1&forcerm=1&q=0", body=context,
                 headers={"Content-Type": "application/x-tar"})
    resp = conn.getresponse()
    n = 0
    while chunk := resp.read(65536):
        n += len(chunk)
    conn.close()
    out.append(n)


def stream_round(port: int, streams: int, mb: int) -> tuple[float, float]:
    """(MB/s of build output relayed, seconds) for `streams` concurrent builds."""
    context, sizes = _context(mb), []
    threads = [threading.Thread(target=_build, args=(port, context, sizes)) for _ in range(streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return sum(sizes) / 1e6 / elapsed, sum(sizes) / 1e6


def run(*, rounds: int = 5, duration: float = 10.0, streams: int = 2, mb: int = 20,
        loads: tuple[str, ...] = ("small", "stream"), setups: tuple[str, ...] = SETUPS,
        progress=lambda msg: None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="dockdrift-sat-"))
    started: list[Setup] = []
    per: dict[str, dict[str, list[float]]] = {
        name: {"small_rps": [], "small_cpu_us_per_req": [], "stream_mbps": [],
               "stream_cpu_ms_per_mb": [], "writer_cpu_us_per_req": [],
               "writer_cpu_ms_per_mb": []} for name in setups}
    try:
        for name in setups:  # inside the try: a later setup failing stops the earlier ones
            started.append(start(name, workdir))
        for k in range(rounds):
            for s in started:
                assert s.proc is not None
                m = per[s.name]
                if "small" in loads:  # proxy CPU per request: steadier than req/s when shared
                    cpu0, w0 = cpu_seconds(s.proc.pid), _writer_cpu(s.proc.pid)
                    rps, n = wrk(s.port, duration)
                    m["small_rps"].append(rps)
                    m["small_cpu_us_per_req"].append(
                        (cpu_seconds(s.proc.pid) - cpu0) * 1e6 / max(n, 1))
                    if s.name != "bare":
                        m["writer_cpu_us_per_req"].append(
                            (_writer_cpu(s.proc.pid) - w0) * 1e6 / max(n, 1))
                if "stream" in loads:
                    cpu0, w0 = cpu_seconds(s.proc.pid), _writer_cpu(s.proc.pid)
                    mbps, total = stream_round(s.port, streams, mb)
                    m["stream_mbps"].append(mbps)
                    m["stream_cpu_ms_per_mb"].append(
                        (cpu_seconds(s.proc.pid) - cpu0) * 1000 / max(total, 1e-9))
                    if s.name != "bare":
                        m["writer_cpu_ms_per_mb"].append(
                            (_writer_cpu(s.proc.pid) - w0) * 1000 / max(total, 1e-9))
                progress(f"round {k + 1}/{rounds} {s.name}: " + ", ".join(
                    f"{key} {v[-1]:.1f}" for key, v in per[s.name].items() if v))
    finally:
        for s in started:
            stop_setup(s)
        shutil.rmtree(workdir, ignore_errors=True)
    return summarise(per, started) | {"rounds": rounds, "duration_s": duration,
                                      "streams": streams, "mb_per_build": mb,
                                      "upstream": UPSTREAM}


def summarise(per: dict[str, dict[str, list[float]]], started: list[Setup]) -> dict:
    out: dict = {"setups": {name: {k: statistics.median(v) if v else None for k, v in m.items()}
                            | {"rounds": m} for name, m in per.items()}}
    for s in started:
        out["setups"][s.name]["stored"] = s.stored
    if "bare" in per:
        for name in per:
            if name == "bare":
                continue
            for key in ("small_rps", "stream_mbps"):
                pairs = list(zip(per[name][key], per["bare"][key], strict=True))
                if pairs:
                    out[f"{name}_over_bare_{key}"] = statistics.median(a / b for a, b in pairs)
    return out
