"""`dockdrift probe` end to end against the real Engine 20.10: every case recorded with its
name and a status, nothing of the run left on the daemon, nothing else removed, Ctrl-C safe."""

from __future__ import annotations

import secrets
import select
import signal
import subprocess
import time

import pytest

from conftest import IMAGE, docker_cli
from dockdrift.probe.cases import CASES
from probe_helpers import DOCKDRIFT, names, prefix_of, rows, run_probe, with_prefix


@pytest.fixture
def sentinels(docker_host: str):
    """One object of every kind that is not the probe's: each must survive the run."""
    keep = f"dd-probetest-keep-{secrets.token_hex(3)}"
    made = [("container", "create", "--pull", "never", "--name", keep, IMAGE, "true"),
            ("volume", "create", keep), ("network", "create", keep),
            ("image", "tag", IMAGE, f"{keep}:probe")]
    try:
        for args in made:
            r = docker_cli(docker_host, *args)
            assert r.returncode == 0, r.stderr
        yield keep
    finally:
        docker_cli(docker_host, "rm", "-f", keep)
        docker_cli(docker_host, "volume", "rm", keep)
        docker_cli(docker_host, "network", "rm", keep)
        docker_cli(docker_host, "rmi", f"{keep}:probe")


def test_whole_probe_records_every_case_and_leaves_nothing(docker_host, sentinels, tmp_path):
    db = tmp_path / "probe.sqlite"
    before = names(docker_host)
    started = time.monotonic()
    code, err = run_probe(docker_host, db)
    seconds = time.monotonic() - started
    assert code == 0, err[-3000:]
    prefix, after = prefix_of(err), names(docker_host)
    assert with_prefix(after, prefix) == []
    for kind, name in (("containers", sentinels), ("volumes", sentinels),
                       ("networks", sentinels), ("images", f"{sentinels}:probe")):
        assert name in after[kind], (kind, name)
    assert IMAGE in after["images"]
    # Every exchange carries its case; every main request got an answer.
    assert rows(db, "SELECT count(*) FROM exchanges WHERE probe_case IS NULL") == [(0,)]
    answered = dict(rows(db, "SELECT probe_case, count(status_code) FROM exchanges "
                             "WHERE probe_case NOT LIKE '%#setup' GROUP BY 1"))
    assert {c.name for c in CASES} - {k for k, n in answered.items() if n} == set()
    # Nothing the probe did not make was removed: every DELETE it sent names its own objects.
    deletes = [p for (p,) in rows(db, "SELECT path FROM exchanges WHERE method = 'DELETE'")]
    assert deletes and all(prefix in p for p in deletes), deletes
    gone = {f"{k}:{n}" for k in before for n in before[k] - after[k]}
    assert not [g for g in gone if any(g.split(":", 1)[1] in p for p in deletes)]
    assert rows(db, "SELECT count(DISTINCT probe_case) FROM exchanges WHERE probe_case = "
                    "'cleanup#setup'") == [(1,)]
    assert f"{len(CASES)} cases run" in err and seconds < 180, err[-500:]


def test_sigint_mid_run_cleans_up_and_exits_130(docker_host, tmp_path):
    db = tmp_path / "probe.sqlite"
    proc = subprocess.Popen([DOCKDRIFT, "probe", "--upstream", docker_host, "--db", str(db)],
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:  # wait for exactly what the test needs: a case past the first containers' setups
        while not any(line.startswith(f"[ 30/{len(CASES)}]") for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            if select.select([proc.stderr], [], [], 1)[0]:
                lines.append(proc.stderr.readline().decode(errors="replace"))
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=120)[1].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(lines) + rest
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted" in err and "LEFT BEHIND" not in err
    prefix = prefix_of(err)
    assert with_prefix(names(docker_host), prefix) == []
    made = rows(db, "SELECT count(*) FROM exchanges WHERE probe_case = 'cleanup#setup' "
                    "AND method = 'DELETE' AND status_code < 300")
    assert made[0][0] >= 1  # containers of the first cases were made, then removed
