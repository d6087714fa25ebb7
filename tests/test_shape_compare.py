"""Body shapes: the spec flattening, the comparison on a literal store (tests/shape_compare_helpers.py
says what differs) and the `dockdrift shapes` command (formats, exit codes, JSON keys)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockdrift.analysis.shapes import DocIndex, load_shapes
from dockdrift.cli import main
from dockdrift.db import spec_shapes
from dockdrift.db.engine import make_engine
from dockdrift.db.spec_shapes import flatten
from tests.shape_compare_helpers import E, P, write_store

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPEC = {"definitions": {
    "Error": {"type": "object", "required": ["message"],
              "properties": {"message": {"type": "string"}}},
    "Base": {"type": "object", "properties": {"Id": {"type": "string"}}, "required": ["Id"]},
    "Node": {"type": "object", "properties": {"Name": {"type": "string"},
                                              "Children": {"type": "array",
                                                           "items": {"$ref": "#/definitions/Node"}}}},
    "Item": {"allOf": [{"$ref": "#/definitions/Base"},
                       {"type": "object", "properties": {
                           "Labels": {"type": "object", "x-nullable": True,
                                      "additionalProperties": {"type": "string"}},
                           "Ports": {"type": "object", "additionalProperties": {
                               "type": "array", "x-nullable": True,
                               "items": {"type": "object",
                                         "properties": {"HostPort": {"type": "string"}}}}},
                           "Size": {"type": "integer", "format": "int64"},
                           "Free": {"type": "object"}}}]},
}}


def test_flatten_ref_allof_nullable_maps_required() -> None:
    shape = flatten({"type": "array", "items": {"$ref": "#/definitions/Item"}}, SPEC)
    assert shape.types == {
        "": {"array"}, "[]": {"object"}, "[].Id": {"string"},
        "[].Labels": {"object", "null"}, "[].Labels.*": {"string"},
        "[].Ports": {"object"}, "[].Ports.*": {"array", "null"}, "[].Ports.*[]": {"object"},
        "[].Ports.*[].HostPort": {"string"}, "[].Size": {"integer"}, "[].Free": {"object"}}
    assert shape.required == {"[].Id"}  # from the allOf member Base
    assert shape.open == {"[].Free"}  # a free-form object: anything below is unspecified
    assert shape.maps == ["[].Labels", "[].Ports"]


def test_flatten_recursive_ref_stops_open() -> None:
    shape = flatten({"$ref": "#/definitions/Node"}, SPEC)
    assert shape.types[".Children[]"] == {"object"}
    assert ".Children[].Children[]" in shape.open  # the loop back into Node is left open
    assert ".Children[].Name" in shape.types


def test_flatten_round_trips_through_the_data_format() -> None:
    shape = flatten({"$ref": "#/definitions/Item"}, SPEC)
    text = shape.to_dict()
    assert text[".Id"] == "string required" and text[".Free"] == "object open"
    assert text[".Labels"] == "null|object"
    again = spec_shapes.DocShape.from_dict(text)
    assert (again.types, again.required, again.open) == (shape.types, shape.required, shape.open)


def test_spec_shapes_per_route_and_status_with_request_body() -> None:
    spec = {**SPEC, "paths": {"/items/{id}/json": {"get": {"responses": {
        200: {"schema": {"$ref": "#/definitions/Item"}},
        404: {"schema": {"$ref": "#/definitions/Error"}}}}},
        "/items/create": {"post": {"parameters": [{"in": "body", "name": "body",
                                                   "schema": {"$ref": "#/definitions/Base"}}],
                                   "responses": {201: {"schema": {"$ref": "#/definitions/Base"}}}}},
        "/items/{id}/export": {"get": {"responses": {200: {"schema": {
            "type": "string", "format": "binary"}}}}}}}
    shapes = spec_shapes.spec_shapes(spec, {("GET", "/items/{id}/json"): ("/items/{id:.*}/json",
                                                                           "getItem")})
    assert set(shapes) == {"GET /items/{id:.*}/json", "POST /items/create"}  # no binary body
    assert shapes["GET /items/{id:.*}/json"]["404"] == {".": "object", ".message": "string required"}
    assert shapes["POST /items/create"]["request"][".Id"] == "string required"


@pytest.mark.skipif(not (SHARED / "specs").is_dir(), reason="../shared not present")
def test_generated_shape_files_match_checked_in(tmp_path: Path) -> None:
    """The checked-in files are exactly what the generator makes from the specs."""
    written = spec_shapes.generate_shapes(SHARED, tmp_path)
    assert {p.name for p in written} == {
        p.name for p in spec_shapes.DATA_DIR.glob("shapes-spec-v*.json")}
    for path in written:
        assert path.read_text() == (spec_shapes.DATA_DIR / path.name).read_text(), path.name


@pytest.mark.skipif(not (SHARED / "specs").is_dir(), reason="../shared not present")
def test_add_shapes_is_one_command_one_file(tmp_path: Path) -> None:
    assert main(["tables", "add-shapes", str(SHARED / "specs" / "engine-api-v1.52.yaml"),
                 "--out", str(tmp_path)]) == 0
    (written,) = tmp_path.iterdir()
    assert written.name == "shapes-spec-v1.52.json"
    assert written.read_text() == (spec_shapes.DATA_DIR / written.name).read_text()


def test_real_spec_facts() -> None:
    """A few facts of the real specs, as the data files keep them."""
    v141 = spec_shapes.read_spec_shapes("1.41")
    inspect = v141["GET /containers/{name:.*}/json"]["200"]
    assert inspect.types[".Config.Labels.*"] == {"string"}
    assert ".NetworkSettings.Networks" in inspect.maps
    assert inspect.types[".State.Health"] >= {"object"}
    images = v141["GET /images/json"]["200"]
    assert "[].RepoDigests" in images.required and images.types["[].RepoTags"] == {"array"}
    maps = spec_shapes.route_map_paths()
    assert "[].Labels" in maps["GET /containers/json"]
    assert ".Config.Labels" in maps["GET /containers/{name:.*}/json"]


def test_doc_index_resolution() -> None:
    docs = DocIndex("own")
    assert docs.version_for("engine", "20.10.24+dfsg1", "/info", None) == "1.41"
    assert docs.version_for("engine", "28.5.2", "/info", None) == "1.51"
    assert docs.version_for("engine", "28.5.2", "/info", "1.45") == "1.45"
    assert docs.version_for("podman", "5.8.6", "/containers/json", "1.51") == "1.41"  # 1.44
    assert docs.version_for("podman", "4.3.1", "/libpod/info", "4.3.1") is None
    assert DocIndex("spec:1.52").version_for("podman", "4.3.1", "/info", None) == "1.52"
    for bad in ("seed", "spec:9.99", "own:1.41", "spec:"):
        with pytest.raises(ValueError):
            DocIndex(bad)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return write_store(tmp_path / "shapes.sqlite")


def test_comparison_on_the_literal_store(store: Path) -> None:
    engine = make_engine(str(store), create=False)
    try:
        report = load_shapes(engine)
    finally:
        engine.dispose()
    assert report.implementations == [E, P]
    rows = {(r.method, r.route, r.status, r.field): r for r in report.rows}
    labels = rows[("GET", "/containers/json", 200, "[].Labels")]
    assert labels.observed == {E: ["object"], P: ["null"]} and not labels.agree
    assert labels.documented == {E: ["object"], P: ["object"]}
    pod = rows[("GET", "/containers/json", 200, "[].Pod")]
    assert pod.observed == {E: [], P: ["string"]} and pod.documented == {E: [], P: []}
    assert rows[("GET", "/containers/json", 200, "[].Id")].agree
    # Podman's `{name}` template is the Engine's route: one row, named by the Engine's template
    cause = rows[("GET", "/containers/{name:.*}/json", 404, ".cause")]
    assert cause.observed == {E: [], P: ["string"]} and not cause.agree
    only = rows[("GET", "/images/json", 200, "[].Created")]
    assert only.observed == {P: ["string"]} and only.agree  # one implementation: no key for E
    assert rows[("GET", "/libpod/info", 200, ".host.arch")].documented == {P: None}
    assert all(r.agree for k, r in rows.items() if k[1] == "/version")
    assert ("GET", "/info", 403, ".message") not in rows  # denied: dockdrift's 403, not a body
    found = {(f.implementation, f.kind, f.route, f.field) for f in report.findings}
    assert found == {
        (P, "null_for_container", "/containers/json", "[].Labels"),
        (P, "undocumented", "/containers/json", "[].Pod"),
        (P, "undocumented", "/containers/{name:.*}/json", ".cause"),
        (P, "undocumented", "/containers/{name:.*}/json", ".response"),
        (P, "type_mismatch", "/images/json", "[].Created"),
        *((P, "missing_required", "/images/json", f"[].{f}") for f in
          ("Containers", "ParentId", "RepoDigests", "SharedSize", "VirtualSize")),
    }
    assert {f.table for f in report.findings} == {"spec-v1.41"}
    sent = {(r.route, r.client, r.field): r.documented for r in report.requests}
    assert sent[("/containers/create", "docker-cli", ".Bogus")] == []
    assert sent[("/containers/create", "docker-cli", ".Image")] == ["string"]
    assert report.summary["exchanges"] == 10


def test_cli_json_keys_exactly(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "--db", str(store), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"implementations", "rows", "findings", "requests", "summary", "dockdrift"} == set(out)
    for row in out["rows"]:
        assert set(row) == {"method", "route", "status", "field", "observed", "documented",
                            "agree"}
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "docs" / "schemas"
                         / "shapes.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(out)
    row = next(r for r in out["rows"] if r["field"] == "[].Labels")
    assert row == {"method": "GET", "route": "/containers/json", "status": 200,
                   "field": "[].Labels", "observed": {E: ["object"], P: ["null"]},
                   "documented": {E: ["object"], P: ["object"]}, "agree": False}


def test_cli_formats_filters_and_exit_codes(store: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shapes", "--db", str(store)]) == 1
    text = capsys.readouterr().out
    assert text.index("GET /containers/json 200: 3 of 9 fields differ") < text.index(
        "GET /version 200")  # differences first
    assert "null where its documentation says array or object (1)" in text
    assert main(["shapes", "--db", str(store), "--route", "/version"]) == 0
    assert "7 fields, alike" in capsys.readouterr().out
    assert main(["shapes", "--db", str(store), "--format", "markdown"]) == 1
    assert capsys.readouterr().out.startswith("# Body shapes")
    out = tmp_path / "shapes.html"
    assert main(["shapes", "--db", str(store), "--format", "html", "-o", str(out)]) == 1
    page = out.read_text()
    assert "<!doctype html>" in page and "[].Labels" in page and "<script" not in page
    # not enough data: a filter that matches nothing
    assert main(["shapes", "--db", str(store), "--route", "/nothing"]) == 3
    assert "not enough data" in capsys.readouterr().err
    assert main(["shapes", "--db", str(store), "--route", "/nothing", "--allow-empty"]) == 0
    # usage errors: one line on stderr, exit 2
    capsys.readouterr()
    for argv in (["--against", "seed"], ["--against", "spec:9.9"], ["--min-total", "0"],
                 ["--implementation", "engine 0.0"], ["--since", "yesterday-ish"]):
        assert main(["shapes", "--db", str(store), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, argv
    assert main(["shapes", "--db", str(tmp_path / "missing.sqlite")]) == 2


def test_html_escapes_what_the_store_says(tmp_path: Path) -> None:
    """Paths come from the store: a field named like markup is escaped (Jinja2 autoescape)."""
    from tests.shape_compare_helpers import ENGINE, PODMAN

    rows = [(ENGINE, "GET", "/version", 200, None, {".": ["object"], ".<b>x</b>": ["string"]},
             None, False, 1),
            (PODMAN, "GET", "/version", 200, None, {".": ["object"]}, None, False, 1)]
    db = write_store(tmp_path / "esc.sqlite", rows)
    out = tmp_path / "esc.html"
    assert main(["shapes", "--db", str(db), "--format", "html", "-o", str(out)]) == 1
    page = out.read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_report_gains_a_shapes_section(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report lists the documentation differences; its exit code still decides on codes."""
    assert main(["report", "--db", str(store), "--against", "own", "--format", "json"]) == 0
    shapes = json.loads(capsys.readouterr().out)["summary"]["shapes"]
    assert shapes["against"] == "own" and shapes["implementations"] == [E, P]
    assert shapes["findings"] == {"missing_required": 5, "undocumented": 3, "type_mismatch": 1,
                                  "null_for_container": 1}
    assert {(d["kind"], d["field"]) for d in shapes["differences"]} >= {
        ("null_for_container", "[].Labels"), ("undocumented", "[].Pod")}
    # the seed (v1.22) does not know /libpod/info: 1 for that code, shapes compared as own
    assert main(["report", "--db", str(store), "--against", "seed"]) == 1
    text = capsys.readouterr().out
    assert "Body shapes against the documentation" in text and "[].RepoDigests" in text


def test_report_without_shapes_reads_as_before(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.shape_compare_helpers import ENGINE

    db = write_store(tmp_path / "plain.sqlite",
                     [(ENGINE, "GET", "/_ping", 200, None, None, None, False, 2)])
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    assert "shapes" not in json.loads(capsys.readouterr().out)["summary"]
    assert main(["report", "--db", str(db), "--format", "markdown"]) == 0
    assert "Body shapes" not in capsys.readouterr().out


def test_matrix_rows_differ_on_shapes(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GET /containers/json: the same code from both, different fields -> the row differs and
    names them; GET /version: same codes, same shape -> agree."""
    assert main(["matrix", "--db", str(store), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    rows = {r["route"]: r for r in out["rows"] if r["case"] is None}
    listing = rows["/containers/json"]
    assert listing["verdict"] == "differ" and listing["differences"] == ["shapes"]
    assert listing["shape_differences"]["200 [].Labels"] == {E: ["object"], P: ["null"]}
    assert set(listing["shape_differences"]) == {"200 [].Labels", "200 [].Labels.*",
                                                 "200 [].Pod"}
    assert rows["/version"]["verdict"] == "agree" and rows["/version"]["shape_differences"] == {}
    assert out["summary"]["pairs"][0]["differ"] == 1 and out["summary"]["shape_rows_differ"] == 1
    assert main(["matrix", "--db", str(store)]) == 1
    assert "shapes (200 [].Labels, 200 [].Labels.*, 200 [].Pod)" in capsys.readouterr().out


def test_drift_shape_shift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Baseline day: 30 container lists with `[].Labels` an object and a `[].Pod` field; current
    day: 30 with `[].Labels` null, no `[].Pod` and a new `[].Health`. Same status codes, so the
    only findings are shape shifts: one appeared, one disappeared, one type in, one type out."""
    from datetime import timedelta

    from tests.shape_compare_helpers import ENGINE, LIST_E, T0

    before = {**LIST_E, "[].Pod": ["string"]}
    after = {**{k: v for k, v in LIST_E.items() if k != "[].Labels.*"},
             "[].Labels": ["null"], "[].Health": ["object"]}
    db = tmp_path / "drift.sqlite"
    write_store(db, [(ENGINE, "GET", "/containers/json", 200, None, before, None, False, 30)])
    write_store(db, [(ENGINE, "GET", "/containers/json", 200, None, after, None, False, 30)],
                T0 + timedelta(days=1))
    day1, day2, day3 = (f"{(T0 + timedelta(days=d)):%Y-%m-%d}T00:00" for d in range(3))
    argv = ["drift", "--db", str(db), "--baseline", f"{day1}..{day2}",
            "--current", f"{day2}..{day3}", "--format", "json"]
    assert main(argv) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    shifts = {(f["field"], f["change"]) for f in found if f["kind"] == "shape_shift"}
    assert shifts == {("[].Health", "appeared"), ("[].Pod", "disappeared"),
                      ("[].Labels.*", "disappeared"), ("[].Labels", "type null appeared"),
                      ("[].Labels", "type object disappeared")}
    assert {f["kind"] for f in found} == {"shape_shift"}
    health = next(f for f in found if f["field"] == "[].Health")
    assert health["code"] == 200 and health["p_adjusted"] < 0.01
    assert health["baseline_count"] == 0 and health["current_count"] == 30
    assert health["types_after"] == ["object"]
    # the same windows with the route ignored: nothing to find
    main([*argv, "--ignore-route", "/containers/*"])
    assert not json.loads(capsys.readouterr().out)["findings"]
    assert main([*argv[:-2], "--format", "text"]) == 1
    assert "shape_shift [].Health: appeared" in capsys.readouterr().out
