"""Recording overhead: the same load against each setup, alternated in rounds (ABCD ABCD ...).

Setups: `direct` (dockerd's TCP socket), `bare` (mitmdump streaming every body, lazy connect:
what the recorder asks of mitmproxy, with no recording; benchmarks/stream_only.py), `addon`
(mitmdump -s addons/docker_recorder.py) and `capture` (`dockdrift capture`, when the command
exists). Every proxy runs for the whole benchmark; after the rounds each is stopped with
SIGTERM and its rows are counted against the requests the load generator completed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load import LoadResult, run_load

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
UPSTREAM = os.environ.get("DOCKDRIFT_BENCH_UPSTREAM", "127.0.0.1:2375")
SETUPS = ("direct", "bare", "addon", "capture")


@dataclass
class Setup:
    name: str
    port: int
    proc: subprocess.Popen | None = None
    db: Path | None = None
    completed: int = 0  # every request completed against it, warm-up included
    runs: list[LoadResult] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # proxy CPU per request, per round
    stored: int | None = None
    exit_code: int | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}: {log.read_text()[-1500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s: {log.read_text()[-1500:]}")


def cpu_seconds(pid: int) -> float:
    """user+system CPU of a process so far: less noisy than throughput on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def capture_available() -> bool:
    exe = BIN / "dockdrift"
    r = subprocess.run([str(exe), "capture", "--help"], capture_output=True, timeout=60)
    return r.returncode == 0


def _command(name: str, port: int, db: Path) -> list[str]:
    mitm = [str(BIN / "mitmdump"), "-q", "--mode", f"reverse:http://{UPSTREAM}",
            "--listen-host", "127.0.0.1", "-p", str(port)]
    if name == "bare":
        return [*mitm, "-s", str(ROOT / "benchmarks" / "stream_only.py"),
                "--set", "connection_strategy=lazy"]
    if name in ("addon", "addon-base"):  # addon-base: the tree in DOCKDRIFT_BENCH_BASE_TREE
        tree = Path(os.environ["DOCKDRIFT_BENCH_BASE_TREE"]) if name == "addon-base" else ROOT
        return [*mitm, "-s", str(tree / "addons" / "docker_recorder.py"),
                "--set", f"dockdrift_db={db}"]
    if name == "capture":
        return [str(BIN / "dockdrift"), "capture", "--upstream", f"tcp://{UPSTREAM}",
                "--listen", f"127.0.0.1:{port}", "--db", str(db)]
    raise ValueError(name)


def start(name: str, workdir: Path) -> Setup:
    if name == "direct":
        return Setup(name, int(UPSTREAM.rsplit(":", 1)[1]))
    port, db = _free_port(), workdir / f"{name}.sqlite"
    log = workdir / f"{name}.log"
    env = dict(os.environ)
    if name == "addon-base":  # compare against another checkout (e.g. `git archive HEAD`)
        env["PYTHONPATH"] = os.environ["DOCKDRIFT_BENCH_BASE_TREE"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(_command(name, port, db), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    _wait_port(port, proc, log)
    return Setup(name, port, proc, db if name != "bare" else None)


def stop(setup: Setup) -> None:
    """SIGTERM, then count the rows the recorder committed (it must flush before exiting)."""
    if setup.proc is None:
        return
    setup.proc.send_signal(signal.SIGTERM)
    try:
        setup.exit_code = setup.proc.wait(60)
    except subprocess.TimeoutExpired:
        setup.proc.kill()
        setup.exit_code = setup.proc.wait()
    if setup.db is not None and setup.db.exists():
        with sqlite3.connect(setup.db) as conn:
            setup.stored = conn.execute("SELECT count(*) FROM exchanges").fetchone()[0]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(setups: list[Setup]) -> dict:
    """Medians over rounds; ratios are medians of per-round ratios (paired, less noisy)."""
    out: dict = {"setups": {}}
    for s in setups:
        out["setups"][s.name] = {
            "rps": _median([r.rps for r in s.runs]),
            "p50_ms": _median([r.percentile(0.5) for r in s.runs]),
            "p99_ms": _median([r.percentile(0.99) for r in s.runs]),
            "cpu_us_per_req": _median(s.cpu_us) if s.cpu_us else None,
            "rps_rounds": [round(r.rps, 1) for r in s.runs],
            "errors": sum(r.errors for r in s.runs),
            "completed": s.completed,
            "stored": s.stored,
            "exit_code": s.exit_code,
        }
    by = {s.name: s for s in setups}
    for name in ("addon", "addon-base", "capture"):
        if name in by and "bare" in by:
            pairs = list(zip(by[name].runs, by["bare"].runs, strict=True))
            out[f"{name}_over_bare_rps"] = _median([a.rps / b.rps for a, b in pairs])
            out[f"{name}_minus_bare_p50_ms"] = _median(
                [a.percentile(0.5) - b.percentile(0.5) for a, b in pairs])
            if by[name].cpu_us and by["bare"].cpu_us:
                out[f"{name}_minus_bare_cpu_us_per_req"] = _median(
                    [a - b for a, b in zip(by[name].cpu_us, by["bare"].cpu_us, strict=True)])
    return out


def run(*, rounds: int = 5, duration: float = 3.0, concurrency: int = 16,
        setups: tuple[str, ...] = SETUPS, warmup: float = 1.0,
        progress=lambda msg: None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="dockdrift-bench-"))
    names = [n for n in setups if n != "capture" or capture_available()]
    started: list[Setup] = []
    try:
        for name in names:
            started.append(start(name, workdir))
        host = "127.0.0.1"
        for s in started:
            s.completed += run_load(host, s.port, duration=warmup, concurrency=concurrency).completed
        for k in range(rounds):
            for s in started:
                cpu0 = cpu_seconds(s.proc.pid) if s.proc else 0.0
                r = run_load(host, s.port, duration=duration, concurrency=concurrency)
                if s.proc and r.completed:
                    s.cpu_us.append((cpu_seconds(s.proc.pid) - cpu0) / r.completed * 1e6)
                s.runs.append(r)
                s.completed += r.completed
                progress(f"round {k + 1}/{rounds} {s.name}: {r.rps:.0f} req/s "
                         f"p50 {r.percentile(0.5):.2f} ms")
    finally:
        for s in started:
            stop(s)
        shutil.rmtree(workdir, ignore_errors=True)
    result = summarise(started)
    result.update(rounds=rounds, duration_s=duration, concurrency=concurrency,
                  skipped=[n for n in setups if n not in names])
    return result
