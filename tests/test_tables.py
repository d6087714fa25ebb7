"""The documented tables: generated from ../shared, checked against the source document
and (Podman) against the counts of its README."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import pytest

from dockdrift.db import podman_tables, tables

SHARED = Path(__file__).resolve().parents[2] / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "seed").is_dir(), reason="../shared not present")


@needs_shared
def test_generated_files_match_checked_in(tmp_path: Path) -> None:
    """The data files are exactly what the generator makes from ../shared (reviewable diffs)."""
    written = tables.generate_all(SHARED, tmp_path)
    # every documented table (seed, spec, podman; documented shapes: test_shape_compare); db/data also holds
    # hand-kept data (user-agents.csv, map-paths.json) that no spec generates
    generated = {p.name for p in tables.DATA_DIR.iterdir()
                 if p.suffix == ".csv" and p.name.startswith(("seed-", "spec-", "podman-"))}
    assert {p.name for p in written} == generated
    for path in written:
        assert filecmp.cmp(path, tables.DATA_DIR / path.name, shallow=False), path.name


def test_seed_has_the_58_routes_of_the_source_document() -> None:
    rows = tables.read_seed()
    assert len(rows) == 58
    assert len({(r.method, r.route) for r in rows}) == 58
    assert all('"' not in r.route for r in rows)  # the document's two typos are corrected
    start = next(r for r in rows if (r.method, r.route) == ("POST", "/containers/{name:.*}/start"))
    assert start.handler == "postContainersStart"
    assert start.swarm_codes == (204, 404, 500) and start.engine_codes == (204, 304, 404, 500)
    viz = next(r for r in rows if r.route == "/images/viz")
    assert viz.engine_absent and viz.engine_codes is None and viz.swarm_codes == (501,)


@needs_shared
def test_seed_agrees_with_the_source_document_text() -> None:
    doc = tables._parse_source_document(
        (SHARED / "seed" / "status-code-comparison-to-docker.txt").read_text())
    assert [(r.method, r.route, r.handler) for r in tables.read_seed()] == doc
    raw = (SHARED / "seed" / "status-code-comparison-to-docker.txt").read_text()
    for typo in tables.SEED_TYPOS:
        assert typo in raw  # the corrections still correspond to the document


@needs_shared
def test_spec_codes_agree_with_the_openapi_yaml() -> None:
    for version in ("1.41", "1.45", "1.51", "1.55"):
        ops = tables.spec_operations(tables._load_yaml(SHARED / "specs" / f"engine-api-v{version}.yaml"))
        documented = {(op_id, codes) for op_id, codes in ops.values()}
        for r in tables.read_spec(version):
            if r.operation_id:
                assert (r.operation_id, " ".join(map(str, r.engine_codes or ()))) in documented


def test_spec_versions_available() -> None:
    assert list(tables.spec_files()) == ["1.25", "1.41", "1.45", "1.51", "1.52", "1.55"]
    ping = [r for r in tables.read_spec("1.55") if r.route == "/_ping"]
    assert {r.method for r in ping} == {"GET", "HEAD"}


@pytest.mark.parametrize("raw,short", [
    ("c.postContainersStart", "postContainersStart"),
    ("r.controllerEnabledMiddleware(r.getNetworksList)", "getNetworksList"),
    ("optionsHandler", "optionsHandler"),
    ("frameworkAdaptHandler(expvar.Handler())", "frameworkAdaptHandler(expvar.Handler())"),
])
def test_short_handler(raw: str, short: str) -> None:
    assert tables.short_handler(raw) == short


@needs_shared
def test_add_spec_is_one_command_one_file(tmp_path: Path) -> None:
    from dockdrift.cli import main

    out = tmp_path / "data"
    out.mkdir()
    assert main(["tables", "add-spec", str(SHARED / "specs" / "engine-api-v1.52.yaml"),
                 "--out", str(out)]) == 0
    (written,) = out.iterdir()
    assert written.name == "spec-v1.52.csv"
    with open(written) as f:
        rows = list(csv.DictReader(f))
    assert any(r["operation_id"] == "ContainerStart" and r["route"] == "/containers/{name:.*}/start"
               for r in rows)


def test_tables_cli_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from dockdrift.cli import main

    assert main(["tables", "add-spec", str(tmp_path / "nope-v9.99.yaml"), "--out",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


# --- Podman ---------------------------------------------------------------------------------

def test_podman_table_counts_match_its_readme() -> None:
    """podman-README.md: 190 rows, 75 compat and 115 libpod; 166 with codes (60 + 106)."""
    assert list(podman_tables.podman_files()) == ["4.3.1", "5.8.3"]
    rows = podman_tables.read_podman("4.3.1")
    assert len(rows) == 190 and len({(r.method, r.route) for r in rows}) == 190
    compat = [r for r in rows if r.api == "compat"]
    libpod = [r for r in rows if r.api == "libpod"]
    assert (len(compat), len(libpod)) == (75, 115)
    assert sum(bool(r.codes) for r in compat) == 60 and sum(bool(r.codes) for r in libpod) == 106
    assert all(r.route.startswith("/libpod/") for r in libpod)
    assert sum(r.method == "*" for r in rows) == 9
    assert {r.route for r in rows if r.path_prefix} == {
        "/configs/", "/nodes/", "/secrets/", "/services/", "/swarm/", "/tasks/"}
    assert all(r.codes is None for r in rows if r.method == "*")


def test_podman_registration_rules() -> None:
    """Libpod only under /v{version} (but /libpod/_ping); compat with and without, two typos."""
    rows = {(r.method, r.route): r for r in podman_tables.read_podman("4.3.1")}
    info = rows[("GET", "/libpod/info")]
    assert info.versioned == podman_tables.VERSIONED and not info.unversioned
    assert rows[("HEAD", "/libpod/_ping")].unversioned
    assert rows[("GET", "/containers/json")].unversioned
    assert not rows[("DELETE", "/secrets/{name}")].unversioned  # its twin is the typo
    typo = rows[("DELETE", "/secret/{name}")]
    assert typo.versioned == "" and typo.unversioned and typo.codes is None
    assert rows[("POST", "/libpod/manifests/{name}/push")].versioned == podman_tables.MANIFEST_V3
    assert rows[("PUT", "/libpod/manifests/{name:.*}")].versioned == podman_tables.MANIFEST_V4
    delete = rows[("DELETE", "/libpod/manifests/{name:.*}")]  # v3 and v4 handlers, both blocks
    assert delete.operation_id == "ManifestDeleteV3Libpod ManifestDeleteLibpod"
    assert delete.codes == (200, 400, 404, 500)
    assert rows[("POST", "/images/create")].handler == (
        "compat.CreateImageFromImage compat.CreateImageFromSrc")
    # the README's typos: codes dropped as go-openapi drops them, an annotation without a body
    assert rows[("POST", "/libpod/containers/{name}/update")].codes == (404, 500)
    assert rows[("GET", "/volumes/{name}")].codes == (200, 500)
    changes = rows[("GET", "/containers/{name}/changes")]
    assert changes.operation_id == "ContainerChanges" and changes.codes is None


@needs_shared
def test_add_podman_is_one_command_one_file(tmp_path: Path) -> None:
    from dockdrift.cli import main

    out = tmp_path / "data"
    out.mkdir()
    assert main(["tables", "add-podman", str(SHARED / "specs" / "podman-routes-v4.3.1.csv"),
                 "--out", str(out)]) == 0
    (written,) = out.iterdir()
    assert written.name == "podman-v4.3.1.csv"
    assert filecmp.cmp(written, tables.DATA_DIR / written.name, shallow=False)


def test_podman_routes_csv_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dockdrift.cli import main

    bad = tmp_path / "podman-routes-v9.9.9.csv"
    bad.write_text("method,podman_route,api,handler,source_file,line,swagger_path,operationId,"
                   "documented_codes\nGET,/libpod/info,compat,libpod.GetInfo,register_info.go,41,"
                   "/libpod/info,SystemInfoLibpod,500 200\n")
    assert main(["tables", "add-podman", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "api 'compat' but the route says libpod" in err
    assert "codes not ascending" in err
    wrong = tmp_path / "routes.csv"
    wrong.write_text("")
    assert main(["tables", "add-podman", str(wrong), "--out", str(tmp_path)]) == 2
    assert "podman-routes-vX.Y.Z.csv" in capsys.readouterr().err


def test_spec_v1_51_is_engine_28_5s_routes() -> None:
    """engine-routes-v1.51.csv (moby v28.5.2): the 121 routes of 1.45, other documented codes."""
    rows = {(r.method, r.route): r for r in tables.read_spec("1.51")}
    older = {(r.method, r.route) for r in tables.read_spec("1.45")}
    assert ("POST", "/containers/{name:.*}/copy") not in rows
    assert rows[("POST", "/containers/{name:.*}/start")].operation_id == "ContainerStart"
    assert rows[("GET", "/images/{name:.*}/json")].engine_codes == (200, 404, 500)
    assert set(rows) == older and len(rows) == 121


def test_podman_5_8_3_table_counts_match_its_readme() -> None:
    """podman-README.md, 5.8.3: 215 rows, 75 compat and 140 libpod; 192 with codes (61 + 131);
    the secrets typo gone, compat update new, the manifest subrouters as in 4.3.1."""
    rows = podman_tables.read_podman("5.8.3")
    assert len(rows) == 215
    assert (sum(r.api == "compat" for r in rows), sum(r.api == "libpod" for r in rows)) == (75, 140)
    assert sum(bool(r.codes) for r in rows if r.api == "compat") == 61
    assert sum(bool(r.codes) for r in rows if r.api == "libpod") == 131
    by_key = {(r.method, r.route): r for r in rows}
    assert ("DELETE", "/secret/{name}") not in by_key
    assert by_key[("DELETE", "/secrets/{name}")].unversioned
    assert by_key[("POST", "/containers/{name}/update")].codes == (200, 404, 500)
    assert by_key[("POST", "/libpod/manifests/{name}/push")].versioned == podman_tables.MANIFEST_V3
    assert by_key[("PUT", "/libpod/manifests/{name:.*}")].versioned == podman_tables.MANIFEST_V4
    assert by_key[("POST", "/networks/{name}/connect")].codes == (200, 400, 403, 500)

