"""Running `dockdrift probe` as a user does, and reading what it left in the store and daemon."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

from conftest import VENV_BIN

DOCKDRIFT = str(VENV_BIN / "dockdrift")
KINDS = {"containers": "/containers/json?all=1", "images": "/images/json",
         "volumes": "/volumes", "networks": "/networks"}


def run_probe(host: str, db: Path, *args: str, timeout: float = 600) -> tuple[int, str]:
    r = subprocess.run([DOCKDRIFT, "probe", "--upstream", host, "--db", str(db), *args],
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr.decode(errors="replace")


def prefix_of(stderr: str) -> str:
    m = re.search(r"cleanup of (ddprobe-[0-9a-f]{6})-\*", stderr)
    assert m, stderr[-3000:]
    return m.group(1)


def names(host: str) -> dict[str, set[str]]:
    """Every container, image tag, volume and network name on the daemon, read directly."""
    base = host.replace("tcp://", "http://")
    out: dict[str, set[str]] = {}
    for kind, path in KINDS.items():
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            data = json.load(resp)
        if kind == "volumes":
            data = data.get("Volumes") or []
        got: set[str] = set()
        for item in data:
            if kind == "containers":
                got |= {n.lstrip("/") for n in item.get("Names") or []}
            elif kind == "images":
                got |= set(item.get("RepoTags") or [])
            else:
                got.add(item["Name"])
        out[kind] = got
    return out


def with_prefix(found: dict[str, set[str]], prefix: str) -> list[str]:
    return sorted(f"{k}:{n}" for k, ns in found.items() for n in ns if prefix in n)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
