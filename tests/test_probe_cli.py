"""`dockdrift probe` usage errors: one line on stderr, exit 2, nothing sent; and --list."""

from __future__ import annotations

import pytest

from dockdrift.cli import main
from dockdrift.probe.cases import CASES, PROBE_VERSION
from probe_helpers import rows


def one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_list_prints_every_case_without_a_server(capsys):
    assert main(["probe", "--list"]) == 0
    out = capsys.readouterr().out
    assert f"version {PROBE_VERSION} ({len(CASES)} cases)" in out
    listed = [line.split()[0] for line in out.splitlines()[2:]]
    assert listed == [c.name for c in CASES]


@pytest.mark.parametrize("argv, says", [
    (["probe"], "--upstream is required"),
    (["probe", "--upstream", "tcp://127.0.0.1:1"], "is not reachable"),
    (["probe", "--upstream", "ftp://x"], "bad --upstream"),
    (["probe", "--upstream", "tcp://127.0.0.1:1", "--case", "no-such-case"], "unknown case"),
    (["probe", "--upstream", "tcp://127.0.0.1:1", "--api-version", "one"], "expected MAJOR.MINOR"),
    (["probe", "--upstream", "tcp://127.0.0.1:1", "--case", "copy@1.41"], "unknown case"),
])
def test_usage_errors(capsys, tmp_path, argv, says):
    assert says in one_line_error(capsys, [*argv, "--db", str(tmp_path / "x.sqlite")])


def test_bad_db_is_one_line(capsys, docker_host, tmp_path):
    err = one_line_error(capsys, ["probe", "--upstream", docker_host, "--case", "ping",
                                  "--db", str(tmp_path / "no" / "dir" / "x.sqlite")])
    assert "does not exist" in err


def test_missing_image_names_the_import_script(capsys, docker_host, tmp_path):
    db = tmp_path / "x.sqlite"
    err = one_line_error(capsys, ["probe", "--upstream", docker_host, "--db", str(db),
                                  "--image", "ddprobe-nosuch:none"])
    assert "scripts/import-busybox.sh" in err and "docker import" in err
    # Only the preflight was sent: no case ran, nothing was created.
    assert {c for (c,) in rows(db, "SELECT DISTINCT probe_case FROM exchanges")} == {
        "preflight#setup"}
