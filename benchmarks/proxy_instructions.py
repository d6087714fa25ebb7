"""Instructions per exchange of the whole proxy process (every thread), with and without the
recorder, counted by valgrind (callgrind) on a real mitmdump in front of the real dockerd.

Each setup's mitmdump runs under callgrind (its children, such as the recorder's writer
process, are not traced: they are not the proxy's core). After a warm-up, `callgrind_control
-z` zeroes the counters, one keep-alive client sends N requests one after another, the recorder
is given time to hand every record over (its store is polled for the rows), and `callgrind_control
-d` dumps the counts. Instruction counts do not depend on the machine's load.

    python benchmarks/proxy_instructions.py                    # ping and mix, 3 setups
    python benchmarks/proxy_instructions.py --requests 300 --workloads mix --json

Setups: bare (mitmdump streaming every body, stream_only.py), addon (the recorder), noshapes
(the recorder with dockdrift_shapes=false). Workloads: ping (`GET /_ping`), mix (container and
image lists, volumes, a missing container's 404: JSON bodies, shaped by the recorder).
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.recording import BIN, UPSTREAM, _free_port  # noqa: E402

SETUPS = ("bare", "addon", "noshapes")
WORKLOADS = {"ping": ["/_ping"],
             "mix": ["/v1.41/containers/json?all=1", "/v1.41/images/json", "/v1.41/volumes",
                     "/v1.41/containers/dockdrift-bench-missing/json"]}


def _command(setup: str, port: int, db: Path) -> list[str]:
    cmd = [sys.executable, str(BIN / "mitmdump"), "-q", "--mode", f"reverse:http://{UPSTREAM}",
           "--listen-host", "127.0.0.1", "-p", str(port)]
    if setup == "bare":
        return [*cmd, "-s", str(ROOT / "benchmarks" / "stream_only.py"),
                "--set", "connection_strategy=lazy"]
    cmd += ["-s", str(ROOT / "addons" / "docker_recorder.py"), "--set", f"dockdrift_db={db}"]
    return cmd + (["--set", "dockdrift_shapes=false"] if setup == "noshapes" else [])


def _requests(port: int, paths: list[str], n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for i in range(n):
        conn.request("GET", paths[i % len(paths)], headers={"User-Agent": "dd-bench/1.0"})
        conn.getresponse().read()
    conn.close()


def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 600) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mitmdump exited ({proc.returncode}) under valgrind")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError("mitmdump under valgrind did not listen")


def measure(setup: str, workload: str, n: int, warmup: int = 40) -> dict:
    with tempfile.TemporaryDirectory(prefix="dockdrift-pcg-") as tmp:
        out, db, port = Path(tmp) / "cg.out", Path(tmp) / "store.sqlite", _free_port()
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                 "--dump-instr=no", "--trace-children=no",
                                 *_command(setup, port, db)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            _wait_listening(port, proc)
            paths = WORKLOADS[workload]
            _requests(port, paths, warmup)
            _wait_rows(setup, db, warmup)
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True,
                           capture_output=True, timeout=120)
            _requests(port, paths, n)
            _wait_rows(setup, db, warmup + n)
            subprocess.run(["callgrind_control", "-d", "measured", str(proc.pid)], check=True,
                           capture_output=True, timeout=120)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(300)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        total = None
        for dump in Path(tmp).glob("cg.out*"):
            text = dump.read_text(errors="replace")
            if "measured" in text[:4000]:
                m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
                total = int(m.group(1)) if m else None
        assert total is not None, "no dump of the measured region"
    return {"setup": setup, "workload": workload, "requests": n, "instructions": total,
            "per_exchange": total / n}


def _wait_rows(setup: str, db: Path, want: int, timeout: float = 300) -> None:
    """The recorder's records handed over and committed (the proxy's part of it is done)."""
    if setup == "bare":
        time.sleep(1.0)
        return
    deadline = time.monotonic() + timeout
    while _rows(db) < want and time.monotonic() < deadline:
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    p.add_argument("--setups", nargs="*", default=list(SETUPS), choices=list(SETUPS))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    for workload in args.workloads:
        got = {s: measure(s, workload, args.requests) for s in args.setups}
        for r in got.values():
            if "bare" in got:
                r["over_bare"] = r["per_exchange"] / got["bare"]["per_exchange"]
            print(json.dumps(r) if args.json else
                  f"{workload:5} {r['setup']:9} {r['per_exchange']:12,.0f} instructions per "
                  f"exchange ({r['requests']} requests)"
                  + (f", {r['over_bare']:.4f} x bare" if "over_bare" in r else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
