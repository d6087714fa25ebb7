"""The documentation agrees with the code: generated pages are current, every option of every
command is documented, each command has its exit codes, the JSON outputs validate against
docs/schemas/, and the site builds strictly (`make docs`)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, need

from dockdrift.cli import COMMANDS, main

DOCS = ROOT / "docs"
SCHEMAS = DOCS / "schemas"


def _docs_gen():
    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "scripts" / "docs_gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def test_generated_pages_are_current() -> None:
    stale = _docs_gen().stale(write=False)
    assert not stale, f"stale generated docs (run `make docs-gen`): {stale}"


def test_every_option_of_every_help_is_in_the_reference() -> None:
    """Through the real entry point: what `dockdrift CMD --help` prints is in docs/cli.md."""
    reference = (DOCS / "cli.md").read_text()
    commands = _docs_gen().option_strings()
    assert {line.split()[1] for line in commands} == set(COMMANDS)
    for line in commands:
        text = _help(line.split()[1:])
        options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text.split("\n\n", 1)[1]))
        missing = sorted(o for o in options if o not in reference)
        assert not missing, f"`{line} --help` options missing from docs/cli.md: {missing}"
        assert f"`{line}`" in reference


def test_every_command_has_its_exit_codes_and_every_column_a_meaning() -> None:
    table = (DOCS / "exit-codes.md").read_text()
    rows = "\n".join(line for line in table.splitlines() if line.startswith("| `"))
    for name in COMMANDS:
        assert f"`{name}`" in rows, f"docs/exit-codes.md has no row for `{name}`"
    exchanges = (DOCS / "reference" / "exchanges.md").read_text()
    assert "(not described yet)" not in exchanges, \
        "a column of exchanges has no meaning in scripts/docs_gen.py EXCHANGE_COLUMNS"


def _validate(name: str, text: str) -> None:
    import jsonschema

    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(json.loads(text))]
    assert not errors, f"{name} JSON does not match docs/schemas/{name}.schema.json: {errors[:5]}"


def _json(argv: list[str], codes: tuple[int, ...] = (0, 1)) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(argv)
    assert rc in codes, (argv, rc)
    return out.getvalue()


def test_json_outputs_match_their_schemas(tmp_path: Path) -> None:
    """report, drift (with findings and gaps), drift history, matrix, allowlist and routes on
    the tests' literal stores, each output validated against its docs/schemas/ file."""
    from drift_helpers import capture
    from matrix_helpers import write_store
    from report_helpers import write_capture

    report_db = str(write_capture(tmp_path / "report.sqlite"))
    _validate("report", _json(["report", "--db", report_db, "--format", "json"]))
    _validate("report", _json(["report", "--db", report_db, "--against", "own",
                               "--format", "json"]))
    _validate("allowlist", _json(["allowlist", "--db", report_db, "--format", "json"]))
    drift_db = str(capture(tmp_path / "drift.sqlite", shifted=True))
    # drift_helpers.capture: baseline 8d..1d, current 1d..now, counted back from its NOW
    baseline, current = "2026-11-18T12:00..2026-11-25T12:00", "2026-11-25T12:00..2026-11-26T12:00"
    drift = _json(["drift", "--db", drift_db, "--baseline", baseline, "--current", current,
                   "--max-gap", "10m", "--save", "--format", "json"])
    assert json.loads(drift)["findings"], "the shifted capture has findings"
    _validate("drift", drift)
    _validate("drift-history", _json(["drift", "history", "--db", drift_db, "--format", "json"]))
    matrix_db = str(write_store(tmp_path / "matrix.sqlite"))
    _validate("matrix", _json(["matrix", "--db", matrix_db, "--format", "json"]))
    _validate("clients", _json(["clients", "--db", matrix_db, "--format", "json"], (0,)))
    _validate("upgrade", _json(["upgrade", "--db", matrix_db, "--to", "engine 29.0",
                                "--format", "json"]))
    for version in ("1.22", "1.55"):
        _validate("routes", _json(["routes", "--version", version, "--format", "json"], (0,)))


def test_every_schema_is_documented() -> None:
    page = (DOCS / "reference" / "json.md").read_text()
    for schema in SCHEMAS.glob("*.schema.json"):
        assert f"schemas/{schema.name}" in page, f"docs/reference/json.md misses {schema.name}"


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    """`make docs`: every warning (a broken link, a page outside the nav) fails the build."""
    need(importlib.util.find_spec("material") is not None,
         "mkdocs-material is not installed: pip install -e '.[docs]'")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                        "--site-dir", str(tmp_path / "site")], cwd=ROOT, capture_output=True,
                       text=True, timeout=240, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "site" / "cli" / "index.html").exists()


def _command_lines(text: str) -> list[str]:
    """`dockdrift …` command lines of a page: every line of its sh blocks, the `$ ` lines of
    its console blocks (the others are output)."""
    lines, out = [], []
    for kind, block in re.findall(r"```(sh|console|bash)\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if kind != "console" or line.startswith("$ "):
                lines.append(line)
    for line in lines:
        line = re.sub(r"^(\$ |sudo )+", "", line.strip())
        line = re.sub(r"^(\w+=\S+ )+", "", line)  # VAR=value prefixes
        if line.startswith("dockdrift ") and not re.search(r"[…\[<]|\.\.\. |\$\(|\|", line):
            out.append(re.split(r"\s+#|[;&>]", line)[0].strip())
    return out


def test_documented_command_lines_parse(capsys: pytest.CaptureFixture[str]) -> None:
    """Every `dockdrift …` line shown in README.md and docs/ is accepted by the real parser
    (flags and choices; what it would do with the data is the guides' real output)."""
    import shlex

    from dockdrift.cli import build_parser

    seen = 0
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for line in _command_lines(page.read_text()):
            argv = shlex.split(line)[1:]
            try:
                build_parser(argv).parse_args(argv)
            except SystemExit as exc:  # --version and --help exit 0
                if exc.code == 0:
                    continue
                raise AssertionError(f"{page.relative_to(ROOT)}: `{line}` is refused") from exc
            seen += 1
    assert seen > 30, seen


def test_documented_python_imports_resolve() -> None:
    """The `from dockdrift… import …` lines of the docs' Python examples name real things."""
    import importlib

    seen = 0
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
            for module, names in re.findall(r"^from (dockdrift[\w.]*) import ([\w, ]+)", block,
                                            re.M):
                mod = importlib.import_module(module)
                for name in (n.strip() for n in names.split(",")):
                    assert hasattr(mod, name) or importlib.util.find_spec(
                        f"{module}.{name}"), f"{page.relative_to(ROOT)}: {module}.{name}"
                    seen += 1
    assert seen >= 5, seen
