"""`dockdrift --help`, `--version` and every `<command> --help` start at once: they import none
of the heavy libraries (issue 23; the figures are in benchmarks/README.md, never asserted here).

The real console script runs with PYTHONPROFILEIMPORTTIME=1 (`python -X importtime`), which
lists every module it imported on stderr.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import VENV_BIN

from dockdrift.cli import COMMANDS

DOCKDRIFT = str(VENV_BIN / "dockdrift")
HEAVY = {"sqlalchemy", "pandas", "numpy", "matplotlib", "mitmproxy", "rich"}


def imported(*argv: str) -> set[str]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    r = subprocess.run([DOCKDRIFT, *argv], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr[-500:]
    names = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()
             if line.startswith("import time:")}
    assert "dockdrift.cli" in names  # the profile really listed the imports
    return names


@pytest.mark.parametrize("argv", [["--help"], ["--version"],
                                  *[[name, "--help"] for name in COMMANDS]],
                         ids=lambda a: " ".join(a))
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    heavy = {name for name in imported(*argv) if name.split(".")[0] in HEAVY}
    assert not heavy, f"dockdrift {' '.join(argv)} imported {sorted(heavy)[:5]}"
