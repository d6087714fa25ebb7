"""`dockdrift matrix`: every format and every exit code (0, 1, 2, 3), in process, on the
ten-row literal store of tests/matrix_helpers.py (two rows differ there)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from matrix_helpers import E, P, write_store

from dockdrift.cli import main
from dockdrift.version import version_info


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("matrix-cli") / "m.sqlite")


def run(capsys, *argv):
    code = main(["matrix", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_grid_differences_first_exit_1(capsys, store):
    code, out, err = run(capsys, "--db", str(store))
    assert code == 1 and err == ""
    assert out.index("Implementations differ") < out.index("Implementations agree") < out.index(
        "Seen by one implementation only")
    assert "ROW  " in out and E in out and P in out
    assert "run-exit-3: POST /containers/{name:.*}/wait  exit_codes" in out
    assert "200×1; exit 3×1 (doc 200 400 404 500)" in out
    assert "2 row(s) differ between implementations" in out and "\x1b[" not in out


def test_json_shape(capsys, store):
    code, out, _ = run(capsys, "--db", str(store), "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert set(data) >= {"implementations", "rows", "summary", "dockdrift"}
    assert data["implementations"] == [E, P] and data["dockdrift"] == version_info()
    for row in data["rows"]:
        assert set(row) >= {"method", "route", "case", "observed", "documented", "agree",
                            "stream_errors", "exit_codes", "seen_by", "verdict"}
        assert isinstance(row["agree"], bool)
    assert data["summary"]["differ"] == 2 and data["summary"]["against"] == "own"


def test_csv_one_line_per_row_and_implementation(capsys, store):
    code, out, _ = run(capsys, "--db", str(store), "--format", "csv")
    lines = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(lines) == 4 * 2
    wait = [x for x in lines if x["case"] == "run-exit-3"]
    assert [(x["implementation"], x["exit_codes"]) for x in wait] == [(E, "3:1"), (P, "0:1")]
    assert {x["verdict"] for x in lines} == {"differ", "agree", "only_in"}


def test_markdown(capsys, store):
    code, out, _ = run(capsys, "--db", str(store), "--format", "markdown")
    assert code == 1 and out.startswith("# dockdrift matrix")
    assert f"| row | differs in | {E} | {P} |" in out


def test_html_page(capsys, store, tmp_path):
    target = tmp_path / "m.html"
    code, out, err = run(capsys, "--db", str(store), "--format", "html", "-o", str(target))
    page = target.read_text()
    assert code == 1 and out == "" and err == f"wrote {target}\n"
    assert '<div class="verdict undocumented">2 row(s) differ' in page
    assert page.index('<tr class="differ">') < page.index('<tr class="agree">')
    assert "documented framed" in page and page.count("data:image/png;base64,") >= 2
    assert f"dockdrift {version_info()['version']} (store schema {version_info()['schema']})" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1].split("dockdrift ")[0]


def test_seed_layout_with_two_implementations(capsys, store):
    code, out, _ = run(capsys, "--db", str(store), "--format", "seed")
    assert code == 1
    assert f"{E} Status Code   {P} Status Code" in out
    assert "  • Route: /containers/{name:.*}/json\n  • Handler: getContainerJSON\n" in out


def test_exit_0_when_all_agree(capsys, store):
    code, out, _ = run(capsys, "--db", str(store), "--route", "/json")
    assert code == 0 and "all implementations agree" in out


def test_exit_3_not_enough_data(capsys, store, tmp_path):
    code, out, err = run(capsys, "--db", str(store), "--target", "engine")
    assert code == 3 and "not enough data to decide" in out
    assert err.count("\n") == 1 and "--allow-empty" in err
    code, _, err = run(capsys, "--db", str(store), "--target", "engine", "--allow-empty")
    assert code == 0 and "not enough data" in err
    code, out, err = run(capsys, "--db", str(store), "--since", "2030-01-01", "--format", "json")
    assert code == 3 and json.loads(out)["summary"]["exchanges"] == 0
    assert "no exchanges in the store for these filters" in err
    code, _, _ = run(capsys, "--db", str(store), "--implementation", P)
    assert code == 3


@pytest.mark.parametrize("argv, message", [
    (["--implementation", "podman 9.9"], "unknown implementation 'podman 9.9'; known in this "
     f"store and filter: '{E}', '{P}'"),
    (["--compare", E, "swarm 1.2.9"], "unknown implementation 'swarm 1.2.9'"),
    (["--compare", E, E], "--compare needs two different implementations"),
    (["--compare", E, P, "--implementation", E], "not both"),
    (["--against", "spec:9.99"], "no Engine OpenAPI table for API '9.99'"),
    (["--against", "podman:9.9"], "no Podman table for '9.9'; available versions: 4.3.1"),
    (["--since", "yesterday-ish"], "--since: bad time"),
])
def test_exit_2_usage_errors(capsys, store, argv, message):
    code, out, err = run(capsys, "--db", str(store), *argv)
    assert code == 2 and out == ""
    assert err.startswith("dockdrift matrix: ") and message in err and err.count("\n") == 1


def test_exit_2_missing_store_and_seed_without_two(capsys, store, tmp_path):
    code, _, err = run(capsys, "--db", str(tmp_path / "nope.sqlite"))
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "--db", str(store), "--format", "seed", "--implementation", E, P,
                       "--route", "/info")
    assert code == 3  # only the engine answered /info: nothing to compare


def test_include_setup(capsys, store):
    _, out, _ = run(capsys, "--db", str(store), "--include-setup", "--format", "json")
    cases = {r["case"] for r in json.loads(out)["rows"]}
    assert "run-exit-3#setup" in cases
