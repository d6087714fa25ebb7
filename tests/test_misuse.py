"""The exit-code contract, end to end: every user mistake through the real `dockdrift` command.

Each misuse must end with exit 2 (usage or input) or 3 (not enough data), one short line on
stderr that names what is wrong, no traceback, and no file created anywhere near it (a command
that reads or tidies a store never creates one: a cron job with a typo must not stay green).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import VENV_BIN, free_port
from report_helpers import write_capture

DOCKDRIFT = str(VENV_BIN / "dockdrift")
NO_PG = "postgresql+psycopg://dockdrift@127.0.0.1:1/nope"  # nothing listens on port 1

# (id, argv with {S}tore / {E}mpty file / {C}orrupt / {T}ext / {R}ecorders / {B}ad allowlist /
#  {P}ort, exit code, what the one line must say)
MISUSES: list[tuple[str, list[str], int, str]] = [
    ("missing-store", ["report", "--db", "missing.sqlite"], 2, "does not exist"),
    ("typo-dir", ["report", "--db", "captrues/x.sqlite"], 2, "no store at"),
    ("corrupt-file", ["report", "--db", "{C}"], 2, "not a readable SQLite"),
    ("text-file", ["drift", "--db", "{T}"], 2, "not a readable SQLite"),
    ("empty-file", ["report", "--db", "{E}"], 2, "no store at"),
    ("bad-since", ["report", "--db", "{S}", "--since", "yesterdayy"], 2, "bad time"),
    ("bad-window", ["drift", "--db", "{S}", "--baseline", "yesterdayy..now"], 2, "bad time"),
    ("since-after-until", ["matrix", "--db", "{S}", "--since", "1h", "--until", "2h"], 2,
     "must be before"),
    ("unknown-table", ["report", "--db", "{S}", "--against", "spec:9.99"], 2, "9.99"),
    ("unknown-table-by-recorder", ["report", "--db", "{R}", "--by", "recorder", "--against",
                                   "spec:9.99"], 2, "9.99"),
    ("unknown-table-drift", ["drift", "--db", "{S}", "--against", "spec:9.99"], 2, "9.99"),
    ("unknown-table-matrix", ["matrix", "--db", "{S}", "--against", "spec:9.99"], 2, "9.99"),
    ("unknown-implementation", ["matrix", "--db", "{S}", "--implementation", "nope 1"], 2,
     "unknown implementation"),
    ("unreachable-postgres", ["report", "--db", NO_PG], 2, "is the database server running"),
    ("unreachable-postgres-drift", ["drift", "--db", NO_PG], 2, "is the database server"),
    ("unreachable-postgres-rollup", ["rollup", "--db", NO_PG], 2, "is the database server"),
    ("unwritable-output", ["report", "--db", "{S}", "--format", "html", "-o",
                           "nodir/report.html"], 2, "cannot write"),
    ("output-is-a-directory", ["allowlist", "--db", "{S}", "--allow-empty", "-o", "."], 2,
     "cannot write"),
    ("non-loopback-listen", ["capture", "--listen", "0.0.0.0:{P}", "--upstream",
                             "tcp://127.0.0.1:1", "--db", "cap.sqlite"], 2, "--allow-remote"),
    ("unreachable-upstream", ["probe", "--upstream", "tcp://127.0.0.1:1", "--db",
                              "probe.sqlite"], 2, "not reachable"),
    ("unknown-format", ["report", "--db", "{S}", "--format", "xml"], 2, "invalid choice"),
    ("prune-without-before", ["prune", "--db", "{S}"], 2, "--before"),
    ("prune-typo", ["prune", "--db", "typo.sqlite", "--before", "90d"], 2, "no store at"),
    ("rollup-typo", ["rollup", "--db", "typo.sqlite"], 2, "no store at"),
    ("rollup-empty-file", ["rollup", "--db", "{E}"], 2, "no store at"),
    ("import-missing-source", ["import", "missing.sqlite", "--into", "fleet.sqlite"], 2,
     "does not exist"),
    ("bad-allowlist-file", ["capture", "--enforce", "{B}", "--upstream", "tcp://127.0.0.1:1",
                            "--db", "cap.sqlite"], 2, "--enforce"),
    ("bad-user-agent-regex", ["allowlist", "--db", "{S}", "--user-agent", "("], 2,
     "not a valid regex"),
    ("min-total-zero", ["report", "--db", "{S}", "--min-total", "0"], 2, "--min-total"),
    ("since-last-run-without-runs", ["drift", "--db", "{S}", "--since-last-run"], 2,
     "no saved drift run"),
    ("history-typo", ["drift", "history", "--db", "typo.sqlite"], 2, "no store at"),
    ("matrix-missing-store", ["matrix", "--db", "missing.sqlite"], 2, "does not exist"),
    ("allowlist-missing-store", ["allowlist", "--db", "missing.sqlite"], 2, "does not exist"),
    ("capture-bad-store-path", ["capture", "--db", "nodir/cap.sqlite", "--upstream",
                                "tcp://127.0.0.1:1", "--listen", "127.0.0.1:{P}"], 2,
     "does not exist"),
    ("by-recorder-html", ["report", "--db", "{R}", "--by", "recorder", "--format", "html"], 2,
     "--by recorder writes"),
    # not enough data: exit 3, one line
    ("empty-window", ["report", "--db", "{S}", "--since", "1h"], 3, "not enough data"),
    ("allowlist-nothing-matched", ["allowlist", "--db", "{S}", "--since", "1h"], 3,
     "match no exchanges"),
    ("matrix-one-implementation", ["matrix", "--db", "{R}", "--target", "engine"], 3,
     "exit 3"),
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stores")
    good = write_capture(d / "good.sqlite")
    named = write_capture(d / "named.sqlite")
    conn = sqlite3.connect(named)
    with conn:
        conn.execute("UPDATE exchanges SET recorder = CASE WHEN id % 2 THEN 'a' ELSE 'b' END")
    conn.close()  # closed now: its -wal/-shm files must not vanish during a test
    (d / "empty.sqlite").write_bytes(b"")
    (d / "corrupt.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    (d / "notes.txt").write_text("not a store\n")
    (d / "bad-allowlist.json").write_text('{"routes": [{"method": "GET"}]')
    return {"S": good, "R": named, "E": d / "empty.sqlite", "C": d / "corrupt.sqlite",
            "T": d / "notes.txt", "B": d / "bad-allowlist.json"}


def _listing(*dirs: Path) -> set[str]:
    return {str(p) for d in dirs for p in d.rglob("*")}


@pytest.mark.parametrize(("argv", "code", "says"), [m[1:] for m in MISUSES],
                         ids=[m[0] for m in MISUSES])
def test_misuse_exits_with_one_line(stores: dict[str, Path], tmp_path: Path, argv: list[str],
                                    code: int, says: str) -> None:
    port = str(free_port())
    args = [a.replace("{P}", port) for a in argv]
    for key, path in stores.items():
        args = [str(path) if a == f"{{{key}}}" else a for a in args]
    store_dir = stores["S"].parent
    before = _listing(tmp_path, store_dir)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("DOCKER_HOST", None)
    r = subprocess.run([DOCKDRIFT, *args], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=env)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "warning:" not in ln
             and "could not ask" not in ln]
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == code, (r.returncode, r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("dockdrift") and says in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
    assert _listing(tmp_path, store_dir) == before, "a misuse created a file"


def test_the_list_is_long_enough() -> None:
    assert len(MISUSES) >= 20 and {m[2] for m in MISUSES} == {2, 3}
