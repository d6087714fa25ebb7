"""Body shapes (db.shapes, db.mapkeys): paths, maps, unions, truncation, NDJSON; property tests."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockdrift.db import mapkeys
from dockdrift.db.shapes import MAX_PATHS, Shape, Shaper, close_truncated, shape_of

SHARED = Path("/work/shared")


def paths(value) -> dict[str, tuple[str, ...]]:
    return shape_of(value).paths


def test_paths_members_arrays_and_the_root() -> None:
    got = paths({"Id": "x", "State": {"Pid": 3, "Running": True, "Error": None},
                 "Components": [{"Name": "Engine", "Details": {"ApiVersion": "1.45"}}]})
    assert got == {
        ".": ("object",), ".Id": ("string",), ".State": ("object",),
        ".State.Pid": ("integer",), ".State.Running": ("boolean",), ".State.Error": ("null",),
        ".Components": ("array",), ".Components[]": ("object",),
        ".Components[].Name": ("string",), ".Components[].Details": ("object",),
        ".Components[].Details.ApiVersion": ("string",)}
    assert paths([{"Id": "a"}]) == {".": ("array",), "[]": ("object",), "[].Id": ("string",)}
    assert paths([]) == {".": ("array",)} and paths(3) == {".": ("integer",)}


def test_integer_only_where_every_value_was_an_integer() -> None:
    assert paths([1, 2])["[]"] == ("integer",)
    assert paths([1, 2.5])["[]"] == ("number",)
    assert paths([1, "x", None, True])["[]"] == ("boolean", "integer", "null", "string")


def test_maps_by_documented_name_and_by_their_keys() -> None:
    body = {"Config": {"Labels": {"mysecretlabel": "v", "com.example.x": "w"},
                       "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}},
            "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}},
            "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "10.0.0.2"}}},
            "Containers": {"a" * 64: {"Name": "web"}}, "ImageId": "sha256:" + "b" * 64}
    got = paths(body)
    assert ".Config.Labels.*" in got and ".Config.ExposedPorts.*" in got
    assert ".Config.Volumes.*" in got and ".HostConfig.LogConfig.Config.*" in got
    assert ".NetworkSettings.Networks.*.IPAddress" in got and ".Containers.*.Name" in got
    text = json.dumps(got)
    for secret in ("mysecretlabel", "com.example", "80/tcp", "/data", "max-size", "bridge",
                   "a" * 12, "10.0.0.2", "web", "json-file"):
        assert secret not in text


def test_a_documented_map_name_wins_over_identifier_keys() -> None:
    assert mapkeys.is_map("Labels", {"plain": "x"})
    assert not mapkeys.is_map("State", {"Pid": 1})
    assert mapkeys.is_map(None, {"abcdef0123456789": 1})  # an id as key
    assert mapkeys.is_map(None, {f"K{i}": i for i in range(mapkeys.MAX_STRUCT_KEYS + 1)})


def test_map_names_are_generated_from_the_specs() -> None:
    if not (SHARED / "specs").is_dir():
        return
    fresh = mapkeys.generate(SHARED)
    assert fresh == json.loads(mapkeys.DATA.read_text()), "regenerate db/data/map-paths.json"
    assert {"Labels", "EndpointsConfig", "PortBindings", "Sysctls"} <= set(fresh["map_fields"])
    assert "Config" in fresh["ambiguous"]  # LogConfig.Config is a map, Config a struct


def test_spec_members_follow_refs_and_allof() -> None:
    spec = {"definitions": {
        "A": {"type": "object", "properties": {"Labels": {"$ref": "#/definitions/L"},
                                               "B": {"allOf": [{"$ref": "#/definitions/S"}]},
                                               "List": {"type": "array",
                                                        "items": {"$ref": "#/definitions/S"}}}},
        "L": {"type": "object", "additionalProperties": {"type": "string"}},
        "S": {"type": "object", "properties": {"X": {"type": "string"}}}}}
    maps, structs = mapkeys.spec_members(spec)
    assert maps == {"Labels"} and structs == {"B"}


def test_unions_of_array_elements_and_stream_messages() -> None:
    assert paths([{"A": 1}, {"B": "x"}, {"A": None}]) == {
        ".": ("array",), "[]": ("object",), "[].A": ("integer", "null"), "[].B": ("string",)}
    s = Shaper(stream=True)
    for chunk in (b'{"status":"Pulling","id":"abc"}\r\n{"sta', b'tus":"Done","progressDetail":',
                  b'{"current":1}}\r\n{"errorDetail":{"message":"x"},"error":"x"}\r\n'):
        s.feed(chunk)
    shape = s.finish()
    assert shape is not None and shape.stream and not shape.truncated
    assert s._buf == b""  # decoded line by line: nothing held once a message ends
    assert shape.paths == {".": ("object",), ".error": ("string",), ".errorDetail": ("object",),
                           ".errorDetail.message": ("string",), ".id": ("string",),
                           ".progressDetail": ("object",), ".progressDetail.current": ("integer",),
                           ".status": ("string",)}
    assert s.messages == 3


def test_concatenated_json_and_pretty_printed_bodies() -> None:
    s = Shaper(stream=True)
    s.feed(b'{"a":1}{"b":2}\n')
    assert set(s.finish().paths) == {".", ".a", ".b"}
    s = Shaper()
    s.feed(b'{\n  "A": 1,\n  "B": [\n    true\n  ]\n}\n')
    assert s.finish().paths == {".": ("object",), ".A": ("integer",), ".B": ("array",),
                                ".B[]": ("boolean",)}


def test_bodies_above_the_bound_are_shaped_up_to_it_and_marked() -> None:
    body = json.dumps({"A": [1, 2, 3], "B": {"C": "x" * 1000}, "D": 1}).encode()
    s = Shaper(bound=100)
    for i in range(0, len(body), 7):
        s.feed(body[i:i + 7])
    shape = s.finish()
    assert shape is not None and shape.truncated and not shape.stream
    assert shape.paths == {".": ("object",), ".A": ("array",), ".A[]": ("integer",),
                           ".B": ("object",)}
    # one over-long message in a stream: the others are still shaped
    s = Shaper(bound=50, stream=True)
    s.feed(b'{"a":1}\n{"b":"' + b"y" * 200 + b'"}\n{"c":true}\n')
    shape = s.finish()
    assert shape.truncated and {".a", ".c"} <= set(shape.paths)


def test_a_cut_body_and_broken_json() -> None:
    # an opened container counts (its type is known), its unfinished member does not
    assert close_truncated('{"a":[1,2,{"b') == {"a": [1, 2, {}]}
    assert close_truncated('[{"x":1},{"y"') == [{"x": 1}, {}]
    assert close_truncated('{"a":1,"b":"cut') == {"a": 1}
    assert close_truncated("page not found") is None
    s = Shaper()
    s.feed(b'{"a": 1, "b": ')
    shape = s.finish()
    assert shape.truncated and shape.paths == {".": ("object",), ".a": ("integer",)}
    s = Shaper(stream=True)
    s.feed(b'{"a": oops}\n{"b": 1}\n')
    assert ".b" in s.finish().paths
    s = Shaper()
    s.feed(b"OK")
    assert s.finish() is None


def test_the_hash_is_stable_and_sees_the_flags() -> None:
    a, b = shape_of({"A": 1, "B": [True]}), shape_of({"B": [False], "A": 2})
    assert a.hash == b.hash and len(a.hash) == 64
    assert Shape(a.paths, truncated=True).hash != a.hash
    assert json.loads(a.to_json()) == {".": ["object"], ".A": ["integer"], ".B": ["array"],
                                       ".B[]": ["boolean"]}


def test_path_count_and_depth_are_bounded() -> None:
    wide = [{f"K{i}": {f"L{j}": 1 for j in range(50)}} for i in range(100)]
    shape = shape_of(wide)
    assert shape.truncated and len(shape.paths) <= MAX_PATHS
    deep: object = 1
    for _ in range(200):
        deep = {"A": deep}
    assert shape_of(deep).truncated


# -- properties over arbitrary JSON ---------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                   allow_infinity=False) | st.text()
_json = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=5)
                     | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=40)


def _reachable(value, path: str) -> bool:
    """Some value in `value` sits at `path` (`.*` any member, `[]` any element)."""
    if path == ".":
        return True
    frontier, rest = [value], path
    while rest:
        if rest.startswith("[]"):
            frontier, rest = [e for v in frontier if isinstance(v, list) for e in v], rest[2:]
        elif rest.startswith(".*"):
            frontier, rest = [e for v in frontier if isinstance(v, dict) for e in v.values()], rest[2:]
        else:
            name = rest[1:].split(".")[0].split("[")[0]
            frontier = [v[name] for v in frontier if isinstance(v, dict) and name in v]
            rest = rest[1 + len(name):]
        if not frontier:
            return False
    return True


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    return set()


def _keys(value, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        out.update(value)
        for v in value.values():
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_json)
def test_every_path_is_reachable_and_no_value_leaks(value) -> None:
    shape = shape_of(value)
    for p in shape.paths:
        assert _reachable(value, p), p
    segments = {seg for p in shape.paths for seg in p.replace("[]", ".").split(".") if seg}
    keys = _keys(value, set())
    for seg in segments - {"*"}:
        assert seg in keys and mapkeys._field_like(seg), seg  # only identifier-like keys
    parsed = json.loads(shape.to_json())  # its only strings: the paths and the type names
    assert set(parsed) == set(shape.paths)
    assert {t for ts in parsed.values() for t in ts} <= {
        "object", "array", "string", "number", "integer", "boolean", "null"}
    for text in _strings(value):  # a value is never a path segment ("*" is the map marker)
        if text and text not in keys and text != "*":
            assert text not in segments, text


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_json, min_size=1, max_size=4), st.integers(1, 64))
def test_ndjson_in_any_chunking_is_the_union_of_its_messages(values, size) -> None:
    body = b"".join(json.dumps(v).encode() + b"\n" for v in values)
    s = Shaper(stream=True)
    for i in range(0, len(body), size):
        s.feed(body[i:i + size])
    got = s.finish()
    union: dict[str, set[str]] = {}
    for v in values:
        for p, t in shape_of(v).paths.items():
            union.setdefault(p, set()).update(t)
    for t in union.values():
        if "number" in t:
            t.discard("integer")
    assert got is not None and {p: set(t) for p, t in got.paths.items()} == union
    assert not got.truncated and s.messages == len(values)
