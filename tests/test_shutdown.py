"""Nothing lost on SIGTERM / Ctrl-C, and an unwritable store stops mitmdump at start (item 6).

Tens of clients keep requests in flight through the recorder when the signal arrives; every
request a client saw complete must then be in the store (in-flight ones may be stored with
an error text, or not at all if the client never got an answer).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import MITMDUMP, ROOT, start_recorder

pytestmark = pytest.mark.docker

THREADS = 40
PATHS = ("/_ping?", "/v1.41/containers/json?all=1&", "/v1.41/version?")


class Hammer:
    """THREADS keep-alive clients; `done` counts responses read to their end.

    Each request carries a unique `req=` query parameter (dockerd ignores it), so the store
    can be checked request by request, not only by count.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.done = 0
        self.completed: set[str] = set()
        self.sent = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True)
                         for i in range(THREADS)]

    def _client(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        n = 0
        while True:
            try:
                with self._lock:
                    self.sent += 1
                tag = f"{i}-{n}"
                conn.request("GET", f"{PATHS[(i + n) % len(PATHS)]}req={tag}")
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise AssertionError(f"unexpected {resp.status} from the recorder")
            except (OSError, http.client.HTTPException):
                return  # the proxy went away: this request never completed
            with self._lock:
                self.done += 1
                self.completed.add(tag)
            n += 1

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def wait_for(self, completed: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.done < completed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.done >= completed, f"only {self.done} requests completed in {timeout}s"

    def join(self) -> None:
        for t in self._threads:
            t.join(60)
        assert not any(t.is_alive() for t in self._threads), "clients hang after the proxy stopped"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_with_requests_in_flight_loses_nothing(docker_host, tmp_path, sig):
    rec = start_recorder(tmp_path / "shutdown.sqlite", docker_host)
    hammer = Hammer(rec.port)
    hammer.start()
    hammer.wait_for(THREADS * 5)  # every client busy, many requests in flight
    rc = rec.stop(sig, timeout=60)
    hammer.join()
    log = rec.log.read_text(errors="replace")
    assert rc == 0, log[-2000:]
    # mitmproxy 11.0 itself logs asyncio CancelledError tracebacks for connections still
    # open when its loop ends; what matters here is that the recorder reports no loss.
    assert "NOT recorded" not in log and "gave up" not in log, log[-2000:]
    con = sqlite3.connect(rec.db)
    stored = {q.rpartition("req=")[2]: (status, error)
              for q, status, error in con.execute("select query, status_code, error from exchanges")}
    con.close()
    # Every response a client read to its end is stored with its status code.
    lost = {tag: stored.get(tag, "no row") for tag in hammer.completed
            if stored.get(tag, (None,))[0] != 200}
    assert not lost, f"{len(lost)} of {hammer.done} completed requests not stored: {lost}"
    assert len(stored) <= hammer.sent


def _fails_at_start(db: str, tmp_path: Path, wrap: list[str] | None = None) -> str:
    """Run mitmdump with an unusable dockdrift_db; it must exit non-zero, one clear line."""
    cmd = [*(wrap or []), MITMDUMP, "-q", "-s", str(ROOT / "addons" / "docker_recorder.py"),
           "--mode", "reverse:http://127.0.0.1:9", "--listen-host", "127.0.0.1", "-p", "0",
           "--set", f"confdir={tmp_path / 'mitmconf'}", "--set", f"dockdrift_db={db}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    lines = [line for line in out.splitlines() if "dockdrift_db" in line]
    assert len(lines) == 1, out
    return lines[0]


def test_missing_directory_fails_at_start(tmp_path):
    line = _fails_at_start(str(tmp_path / "no-such-dir" / "x.sqlite"), tmp_path)
    assert "does not exist" in line


def _readonly_wrapper(directory: Path) -> list[str]:
    """Make `directory` read-only for mitmdump; root ignores file modes, so use a mount."""
    if os.geteuid() != 0:
        for p in directory.iterdir():
            p.chmod(0o444)
        directory.chmod(0o555)
        return []
    if not shutil.which("unshare"):
        pytest.skip("root without unshare(1): cannot make a read-only file")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("root without mount namespaces: cannot make a read-only file")
    # A private mount namespace: the read-only bind mount is invisible to everyone else.
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, str(directory)]


def test_readonly_store_fails_at_start(tmp_path):
    store = tmp_path / "ro"
    store.mkdir()
    db = store / "capture.sqlite"
    made = subprocess.run([sys.executable, "-c", "import sys; from db.engine import make_engine;"
                           " make_engine(sys.argv[1]).dispose()", str(db)], cwd=ROOT)
    assert made.returncode == 0 and db.exists()
    line = _fails_at_start(str(db), tmp_path, _readonly_wrapper(store))
    assert "read" in line.lower() and str(db) in line
