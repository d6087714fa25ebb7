"""Large bodies pass the recorder with flat memory and arrive intact.

A ~50 MB and a ~300 MB file go in with `docker cp` (a streamed request body, PUT archive)
and come back out with `docker exec cat` (a hijacked 101 stream); the proxy's peak RSS
(VmHWM) must not grow with the body size. Figures are printed (pytest -s).
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest
from conftest import DOCKER, IMAGE, docker_cli
from fault_helpers import proc_stats, query

pytestmark = [pytest.mark.docker, pytest.mark.slow]
NAME = "dd5-large"
MB = 1_000_000


def _random_file(path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(size // MB):
            chunk = os.urandom(MB)
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def _sha_through(host: str, *args: str) -> str:
    """sha256 of what a docker command writes to stdout, read as a stream (never in memory)."""
    proc = subprocess.Popen([DOCKER, "-H", host, *args], stdout=subprocess.PIPE)
    digest = hashlib.sha256()
    assert proc.stdout is not None
    while chunk := proc.stdout.read(1 << 20):
        digest.update(chunk)
    assert proc.wait(120) == 0
    return digest.hexdigest()


def import_random_image(host: str, tmp_path, tag: str, size: int, timeout: float) -> None:
    """`docker import` of a rootfs holding one random file of `size` bytes, streamed through
    tar (never in memory); the file is deleted afterwards, the image kept as `tag`."""
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    _random_file(rootfs / "blob", size)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run([DOCKER, "-H", host, "import", "-", tag], stdin=tar.stdout,
                              capture_output=True, timeout=timeout)
    assert tar.wait(60) == 0 and imported.returncode == 0, imported.stderr
    (rootfs / "blob").unlink()


def test_large_bodies_flat_memory_and_intact(recorder, tmp_path):
    host, pid = recorder.host, recorder.proc.pid
    docker_cli(host, "rm", "-f", NAME)
    assert docker_cli(host, "run", "-d", "--name", NAME, IMAGE, "sleep", "300").returncode == 0
    peaks = {"start": proc_stats(pid)["hwm_kb"]}
    try:
        for size in (50, 300):
            src = tmp_path / f"big{size}"
            want = _random_file(src, size * MB)
            r = docker_cli(host, "cp", str(src), f"{NAME}:/big{size}")
            assert r.returncode == 0, r.stderr
            src.unlink()
            assert _sha_through(host, "exec", NAME, "cat", f"/big{size}") == want
            peaks[f"{size}MB"] = proc_stats(pid)["hwm_kb"]
    finally:
        docker_cli(host, "rm", "-f", NAME)
    assert recorder.stop() == 0
    print(f"\nproxy peak RSS (VmHWM, kB): {peaks}")
    assert peaks["300MB"] - peaks["50MB"] < 32_000, "peak memory grows with the body size"
    sizes = query(recorder.db, "SELECT request_bytes FROM exchanges WHERE method = 'PUT' AND "
                               "route LIKE '/containers/%/archive' ORDER BY id")
    assert [n // MB for (n,) in sizes] == [50, 300]  # counted, streamed, never stored


def test_image_save_and_load_flat_memory_and_intact(docker_host, recorder, tmp_path):
    """`docker save` (a streamed response) and `docker load` (a streamed request) of a
    ~200 MB image through the recorder: identical bytes to a direct save, flat proxy memory."""
    tag = "dd5-large-image:save"
    import_random_image(docker_host, tmp_path, tag, 200 * MB, timeout=300)
    pid, saved = recorder.proc.pid, tmp_path / "saved.tar"
    try:
        start = proc_stats(pid)["hwm_kb"]
        direct = _sha_through(docker_host, "save", tag)
        assert _sha_through(recorder.host, "save", tag) == direct  # the response, streamed
        with open(saved, "wb") as out:
            assert subprocess.run([DOCKER, "-H", docker_host, "save", tag], stdout=out,
                                  timeout=300).returncode == 0
        docker_cli(docker_host, "rmi", tag)
        with open(saved, "rb") as body:  # the request body, streamed
            loaded = subprocess.run([DOCKER, "-H", recorder.host, "load"], stdin=body,
                                    capture_output=True, timeout=300)
        assert loaded.returncode == 0, loaded.stderr
        assert _sha_through(docker_host, "save", tag) == direct  # loaded intact
        peak = proc_stats(pid)["hwm_kb"]
    finally:
        docker_cli(docker_host, "rmi", "-f", tag)
    size_kb = saved.stat().st_size // 1000
    print(f"\nsave/load of {size_kb // 1000} MB: proxy peak RSS {start} kB -> {peak} kB")
    assert peak - start < size_kb // 4, "the proxy's memory grew with the body"
    assert recorder.stop() == 0
    rows = query(recorder.db, "SELECT method, route, status_code, response_bytes, request_bytes "
                 "FROM exchanges WHERE route IN ('/images/{name:.*}/get', '/images/get', "
                 "'/images/load')")
    saves = [r for r in rows if r[0] == "GET" and r[2] == 200]
    assert saves and all(r[3] >= size_kb * 1000 * 0.99 for r in saves)  # bytes counted as relayed
    load_rows = [r for r in rows if r[1] == "/images/load"]
    assert load_rows and load_rows[0][2] == 200 and load_rows[0][4] >= size_kb * 1000 * 0.99
