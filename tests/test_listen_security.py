"""Who can reach the recorder, and who can read what it wrote.

Whoever can connect to the proxy controls the Docker daemon (root on the host), so the addon
listens on loopback unless `--set dockdrift_allow_remote=true`; mitmproxy's own default
(every interface) is replaced by 127.0.0.1. The store and its -wal/-shm files are 0600.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import MITMDUMP, ROOT, free_port, wait_port
from fault_helpers import get, wait_rows
from mitmproxy import exceptions
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons

ADDON = ROOT / "addons" / "docker_recorder.py"


def _mitmdump(db: Path, *args: str, umask: int = 0o022) -> subprocess.Popen:
    """mitmdump with the addon and no --listen-host of ours, under a given umask."""
    cmd = [MITMDUMP, "-q", "-s", str(ADDON), "--set", f"dockdrift_db={db}", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                            preexec_fn=lambda: os.umask(umask))


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a LISTEN socket on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, hexport = local.rpartition(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


@pytest.mark.docker
def test_loopback_by_default_and_private_files(docker_host: str, tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "c.sqlite"
    up = docker_host.replace("tcp://", "http://")
    refused = {
        "--listen-host": _mitmdump(tmp_path / "r1.sqlite", "--mode", f"reverse:{up}",
                                   "--listen-host", "0.0.0.0", "-p", str(free_port())),
        "mode spec": _mitmdump(tmp_path / "r2.sqlite", "--mode",
                               f"reverse:{up}@0.0.0.0:{free_port()}"),
    }
    proc = _mitmdump(db, "--mode", f"reverse:{up}", "-p", str(port), umask=0)
    try:
        wait_port(port, timeout=120, proc=proc)
        assert _listening(port) == {"0100007F"}  # 127.0.0.1 only, not 0.0.0.0 nor ::
        assert get(port, "/_ping") == (200, b"OK")
        assert wait_rows(db, "SELECT COUNT(*) FROM exchanges", 1) == 1
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("c.sqlite*")}
    finally:
        proc.terminate()
        proc.wait(60)
    assert modes == {"c.sqlite": 0o600, "c.sqlite-wal": 0o600, "c.sqlite-shm": 0o600}
    for how, p in refused.items():
        out = p.communicate(timeout=120)[0].decode(errors="replace")
        assert p.returncode != 0, f"{how}: started\n{out}"
        assert "Traceback" not in out
        lines = [line for line in out.splitlines() if "dockdrift" in line]
        assert len(lines) == 1 and "refusing to listen on 0.0.0.0" in lines[0], out
        assert "dockdrift_allow_remote=true" in lines[0]


def _addon():
    spec = importlib.util.spec_from_file_location("docker_recorder_listen", ADDON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DockerRecorder()


def test_allow_remote_is_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default store (./dockdrift.sqlite) opens on load
    rec = _addon()
    with taddons.context(Proxyserver(), rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(tmp_path / "a.sqlite"), listen_host="")
        assert tctx.options.listen_host == "127.0.0.1"
        for host in ("0.0.0.0", "::", "192.0.2.7", "docker.example"):
            with pytest.raises(exceptions.OptionsError, match="refusing to listen"):
                tctx.configure(rec, listen_host=host)
        tctx.configure(rec, listen_host="::1")
        tctx.configure(rec, listen_host="localhost")
        tctx.configure(rec, dockdrift_allow_remote=True, listen_host="0.0.0.0")
        assert tctx.options.listen_host == "0.0.0.0"
        rec.done()
