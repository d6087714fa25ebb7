"""Drift on captures recorded from the real dockerd through the recorder.

Baseline: inspect an existing container, ~10% of the calls on missing names (real 404s), plus
pings. Then a shifted phase where ~55% of the inspects miss, and (in a second capture) a phase
drawn from the baseline's own mix. Drift must flag exactly the inspect route, as a share_shift,
and the noise-only capture must exit 0. Which calls miss is drawn with a fixed seed.
"""

from __future__ import annotations

import http.client
import shutil
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from dockdrift.cli import main
from conftest import IMAGE, docker_cli, start_recorder

pytestmark = [pytest.mark.docker, pytest.mark.slow]
NAME = f"dd4-drift-{os.getpid()}"
INSPECT = "/containers/{name:.*}/json"
PINGS = 30  # per phase: a second route that must stay quiet


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _calls(port: int, paths: list[str]) -> list[tuple[str, int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out = []
    for path in paths:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        out.append(("ping" if "_ping" in path else "inspect", resp.status))
    conn.close()
    return out


def _traffic(port: int, rng: np.random.Generator, n_inspect: int, p_missing: float) -> dict:
    """Raw keep-alive HTTP through the recorder on 8 connections; the status counts seen.

    Several connections because one keep-alive connection through the proxy stalls ~40 ms per
    request here (delayed ACK against a response written in two pieces).
    """
    paths = [f"/v1.41/containers/{NAME}-missing-{i}/json" if miss else
             f"/v1.41/containers/{NAME}/json" for i, miss in
             enumerate(rng.random(n_inspect) < p_missing)]
    paths += ["/v1.41/_ping"] * PINGS
    paths = [paths[i] for i in rng.permutation(len(paths))]
    with ThreadPoolExecutor(8) as pool:
        results = pool.map(lambda k: _calls(port, paths[k::8]), range(8))
    return dict(Counter(pair for chunk in results for pair in chunk))


def _window(captures: dict, first: str, upto: str) -> str:
    return f"{captures[first + '_start']}..{captures[upto + '_start']}"


def _drift(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "drift.json"
    rc = main(["drift", *args, "--format", "json", "--output", str(out)])
    return rc, json.loads(out.read_text())


@pytest.fixture(scope="module")
def captures(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One recorded capture, phases baseline / shifted / noise with their times noted; and a
    second capture holding the noise phase only (a copy with the earlier rows deleted)."""
    tmp = tmp_path_factory.mktemp("drift_e2e")
    docker_cli(docker_host, "rm", "-f", NAME)
    r = docker_cli(docker_host, "create", "--name", NAME, IMAGE, "true")
    assert r.returncode == 0, r.stderr
    rng = np.random.default_rng(4)
    marks: dict[str, object] = {}
    try:
        rec = start_recorder(tmp / "a.sqlite", docker_host)
        try:
            for phase, n, p_missing in [("baseline", 300, 0.10), ("shifted", 200, 0.55),
                                        ("noise", 200, 0.10)]:
                marks[f"{phase}_start"] = _now()
                marks[phase] = _traffic(rec.port, rng, n, p_missing)
            marks["end"] = _now()
        finally:
            assert rec.stop() == 0, rec.log.read_text(errors="replace")[-2000:]
    finally:
        docker_cli(docker_host, "rm", "-f", NAME)
    shutil.copy(tmp / "a.sqlite", tmp / "b.sqlite")
    with sqlite3.connect(tmp / "b.sqlite") as conn:
        conn.execute("DELETE FROM exchanges WHERE started_at < ?",
                     (marks["noise_start"].replace("T", " "),))
    return {"a": tmp / "a.sqlite", "b": tmp / "b.sqlite", **marks}


def test_daemon_answered_the_mix_we_asked_for(captures: dict) -> None:
    """The premise: real 404s for missing names, 200 otherwise, at the drawn shares."""
    base, shifted = captures["baseline"], captures["shifted"]
    assert set(base) == {("inspect", 200), ("inspect", 404), ("ping", 200)}
    assert 0.05 < base[("inspect", 404)] / 300 < 0.15
    assert 0.45 < shifted[("inspect", 404)] / 200 < 0.65


def test_shift_recorded_from_dockerd_is_flagged_on_that_route_only(captures: dict,
                                                                   tmp_path: Path) -> None:
    rc, result = _drift(tmp_path, "--db", str(captures["a"]),
                        "--baseline", _window(captures, "baseline", "shifted"),
                        "--current", _window(captures, "shifted", "noise"))
    assert rc == 1
    assert [(f["target"], f["method"], f["route"], f["kind"], f["code"])
            for f in result["findings"]] == [("engine", "GET", INSPECT, "share_shift", 404)]
    (f,) = result["findings"]
    assert f["baseline_counts"]["404"] == captures["baseline"][("inspect", 404)]
    assert f["current_counts"]["404"] == captures["shifted"][("inspect", 404)]
    assert f["effect"] > 0.3 and f["p_adjusted"] < 1e-6
    assert result["baseline"]["n_answered"] == 300 + PINGS
    assert result["current"]["n_answered"] == 200 + PINGS


def test_noise_only_capture_against_its_baseline_exits_0(captures: dict, tmp_path: Path) -> None:
    rc, result = _drift(tmp_path, "--db", str(captures["b"]), "--baseline-db", str(captures["a"]),
                        "--baseline", _window(captures, "baseline", "shifted"))
    assert (rc, result["findings"]) == (0, [])
    assert result["current"]["n_answered"] == 200 + PINGS
    assert result["baseline"]["n_answered"] == 300 + PINGS


def test_noise_phase_in_the_same_capture_exits_0(captures: dict, tmp_path: Path) -> None:
    rc, result = _drift(tmp_path, "--db", str(captures["a"]),
                        "--baseline", _window(captures, "baseline", "shifted"),
                        "--current", f"{captures['noise_start']}..{captures['end']}")
    assert (rc, result["findings"]) == (0, [])


def test_html_report_of_the_real_shift_embeds_its_timeline(captures: dict,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "drift.html"
    rc = main(["drift", "--db", str(captures["a"]),
               "--baseline", _window(captures, "baseline", "shifted"),
               "--current", _window(captures, "shifted", "noise"),
               "--format", "html", "--output", str(out)])
    page = out.read_text()
    assert rc == 1
    assert page.count("data:image/png;base64,") == 1 and INSPECT in page
