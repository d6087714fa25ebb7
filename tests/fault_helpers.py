"""Helpers for the reliability and security tests: process figures, raw sockets, a private dockerd.

Kept out of conftest (the lead owns it); imported by tests/test_faults.py and friends.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from conftest import wait_port


def proc_stats(pid: int) -> dict[str, int]:
    """Open fds, threads, current and peak RSS (kB) of a live process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()[0] if value.split() else ""
    return {"fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": int(fields["Threads"]),
            "rss_kb": int(fields["VmRSS"]), "hwm_kb": int(fields["VmHWM"])}


def writer_pid(pid: int) -> int:
    """The recorder's writer process (db.sink_worker): the proxy's only child process."""
    kids = [int(k) for task in Path(f"/proc/{pid}/task").iterdir()
            for k in (task / "children").read_text().split()]
    (kid,) = [k for k in kids if b"sink_worker" in Path(f"/proc/{k}/cmdline").read_bytes()]
    return kid


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Read the store from another connection, the way a report would."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wait_rows(db: Path, sql: str, want: int, timeout: float = 30.0) -> int:
    """Poll until `sql` (a COUNT) reaches `want`; returns the last count."""
    deadline, n = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        try:
            n = query(db, sql)[0][0]
        except sqlite3.OperationalError:
            n = -1  # not created yet, or locked for a moment
        if n >= want:
            return n
        time.sleep(0.1)
    return n


def get(port: int, path: str, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes, timeout: float = 5.0, shut_write: bool = False,
                 idle: float = 1.0) -> bytes:
    """Send raw bytes; return what comes back until the peer closes, or until it has said
    something and then stays quiet for `idle` seconds (a kept-alive connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                s.settimeout(idle)
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def head_then_close(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send a request, read up to the end of the response headers, then drop the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return buf.split(b"\r\n", 1)[0]


def encodings(secret: bytes) -> dict[str, bytes]:
    """Ways a secret could sit in a file: raw, percent-encoded, hex, and base64/base64url at
    every alignment inside a longer string (the stable middle of each)."""
    found = {"raw": secret, "percent": quote(secret).encode(), "hex": secret.hex().encode()}
    for shift in range(3):
        for name, enc in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            full = enc(b"\0" * shift + secret).rstrip(b"=")
            # the first chars mix in the prefix, the last may mix in what follows
            found[f"{name}+{shift}"] = full[(shift * 4 + 2) // 3 + 1: -2]
    return found


class PrivateDockerd:
    """A second dockerd of our own (own socket, data and exec roots) that tests stop and start."""

    def __init__(self, root: str = "/tmp/dd-faults", port: int = 0) -> None:
        self.root = Path(root)
        self.port = port
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        r = self.root
        for sub in ("data", "exec"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        cmd = ["dockerd", "-H", f"unix://{r}/docker.sock", "-H", f"tcp://127.0.0.1:{self.port}",
               "--data-root", f"{r}/data", "--exec-root", f"{r}/exec",
               "--pidfile", f"{r}/docker.pid", "--iptables=false", "--ip6tables=false",
               "--bridge=none", "--storage-driver=vfs"]
        with open(r / "dockerd.log", "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        wait_port(self.port, timeout=timeout, proc=self.proc)
        deadline = time.monotonic() + timeout
        while get(self.port, "/_ping", timeout=5)[0] != 200:  # listening is not ready yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"dockerd on port {self.port} does not answer /_ping")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(f"{self.root}/")]
        for target in sorted(mounts, reverse=True):  # dockerd leaves its data-root bind mount
            subprocess.run(["umount", "-l", target], capture_output=True)
        for _ in range(20):  # containerd may still be leaving its directories for a moment
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists():
                return
            time.sleep(0.25)
