"""Each real server the tests drive is the implementation the registry says (issue 9, item 1).

A wrong daemon on a port (another version, Podman where an Engine should be) would make every
comparison between implementations wrong without failing any other test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import IMPLEMENTATIONS, ROOT, Implementation, docker_cli, implementation_host, need

pytestmark = pytest.mark.docker


def test_server_is_the_registered_implementation(daemon: Implementation):
    r = docker_cli(daemon.host, "version", "--format", "{{json .Server}}", timeout=30)
    assert r.returncode == 0, r.stderr
    server = json.loads(r.stdout)
    assert (server["ApiVersion"], server["Components"][0]["Name"]) \
        == (daemon.api, daemon.component)



def test_floor_mode_refuses_what_engine_29_refuses():
    """Engine 28.5 started with DOCKER_MIN_API_VERSION=1.44 (scripts/dockerd28-up.sh --floor)
    answers like Engine 29.0: /version says MinAPIVersion 1.44, API 1.41 gets Engine 29's 400."""
    host = implementation_host("engine28floor")
    base = host.replace("tcp://", "http://")
    with urllib.request.urlopen(f"{base}/version", timeout=20) as resp:
        assert json.load(resp)["MinAPIVersion"] == "1.44"
    with pytest.raises(urllib.error.HTTPError) as old:
        urllib.request.urlopen(f"{base}/v1.41/version", timeout=20)
    assert (old.value.code, json.loads(old.value.read())["message"]) == (
        400, "client version 1.41 is too old. Minimum supported API version is 1.44, "
             "please upgrade your client to a newer version")
    with urllib.request.urlopen(f"{IMPLEMENTATIONS['engine28'].host.replace('tcp://', 'http://')}"
                                "/v1.41/version", timeout=20) as resp:  # without the floor: 200
        assert json.load(resp)["MinAPIVersion"] == "1.24"


def test_podman5_down_leaves_no_mount_and_purges(tmp_path):
    """podman5-down.sh unmounts a root's /proc, /sys and /dev (bound as podman5-up.sh does)
    before anything is removed: `rm -rf` of the folder never reaches the host's /dev."""
    need(os.geteuid() == 0 and shutil.which("mount") is not None, "root and mount(8) are needed")
    root = tmp_path / "p5" / "root"
    for sub in ("proc", "sys", "dev"):
        (root / sub).mkdir(parents=True)
    mounted = subprocess.run(["bash", "-c", f'me=test; . {ROOT}/scripts/lib.sh; chroot_mount "$1"',
                              "-", str(root)], capture_output=True, text=True, timeout=60)
    assert mounted.returncode == 0, mounted.stderr
    assert _mounts_under(root) and (root / "dev" / "null").exists()
    down = subprocess.run([str(ROOT / "scripts" / "podman5-down.sh"), "--purge",
                           str(tmp_path / "p5")], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert _mounts_under(root) == [] and not (tmp_path / "p5").exists()
    assert os.path.exists("/dev/null") and os.path.isdir("/proc/self")


def test_podman5_up_returns_while_podman_runs():
    """servers-up.sh reads each script's stdout through a pipe (`line=$(podman5-up.sh)`); a shell
    left between the script and its backgrounded podman held that pipe, and the first CI run
    that had to start Podman 5.8 waited on it until its time ran out. Restarting the real
    server through the same path must return, and no process of the server may hold the pipe."""
    need(os.geteuid() == 0, "root is needed to restart Podman 5.8")
    host = implementation_host("podman5")
    need(host == IMPLEMENTATIONS["podman5"].default,
         "Podman 5.8 is not the one scripts/podman5-up.sh starts (DOCKDRIFT_PODMAN5_TCP is set)")
    down = subprocess.run([str(ROOT / "scripts" / "podman5-down.sh")],
                          capture_output=True, text=True, timeout=180)
    assert down.returncode == 0, down.stderr
    try:
        up = subprocess.run([str(ROOT / "scripts" / "servers-up.sh"), "podman5"],
                            capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"servers-up.sh podman5 did not return within 180 s: {e.stdout!r}")
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith("podman5: export DOCKER_HOST=" + host)
    pid = int((Path(os.environ.get("DOCKDRIFT_PODMAN5_DIR", "/tmp/dockdrift-podman5"))
               / "podman.pid").read_text())
    assert _std_streams_are_files(pid), f"podman ({pid}) writes to a pipe or terminal"
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"podman")


def _std_streams_are_files(pid: int) -> bool:
    """stdin, stdout and stderr of `pid` are files (a log, /dev/null), not a pipe of a caller."""
    targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in (0, 1, 2)]
    return not any(t.startswith(("pipe:", "/dev/pts", "/dev/tty")) for t in targets)


def _mounts_under(path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]
