"""Documented body shapes: each OpenAPI spec's schemas flattened into the recorder's path syntax.

A schema becomes `{path: types}` in the syntax the recorder stores (`.Name` an object member,
`[]` array elements, `.*` the values of a map with dynamic keys; `.` is the body itself, `""`
in memory), with the JSON types the documentation allows there: `$ref` followed, `allOf` merged, `x-nullable`
adds `null`, `additionalProperties` becomes `.*`. Besides the types, each shape keeps which
paths are `required` (listed in their parent object's `required`) and which are `open` (a
free-form object or a recursive `$ref`: anything below is documented as unspecified).

`dockdrift tables generate` writes one `db/data/shapes-spec-vX.YY.json` per spec (responses per
route and status, request bodies), a path per line: `".Id": "string required"`, types joined
with `|`, `any` for no type, then the marks. `route_map_paths()` lists, per route, the paths
whose members are map keys (the recorder's own name rule is db/data/map-paths.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dockdrift.db.tables import DATA_DIR, _known_templates, _load_yaml, spec_version, version_key

JSON_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
SHAPES_PREFIX = "shapes-spec-v"
ROOT = "."  # how the files (and the recorder) write the body itself; "" in memory
MAX_DEPTH = 16  # deeper than any Docker schema; a guard against pathological documents


@dataclass
class DocShape:
    """What one schema documents: types per path, required paths, free-form (open) paths."""

    types: dict[str, set[str]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    open: set[str] = field(default_factory=set)

    def add(self, path: str, types: set[str]) -> None:
        self.types.setdefault(path, set()).update(types)

    @property
    def maps(self) -> list[str]:
        """Paths whose members are map keys: `.Config.Labels` for `.Config.Labels.*`."""
        return sorted(p[:-2] for p in self.types if p.endswith(".*"))

    def to_dict(self) -> dict[str, str]:
        """`{".Id": "string required", ".Labels.*": "string", ".Config": "object open"}`."""
        return {p or ROOT: " ".join(["|".join(sorted(t)) or "any"]
                                    + ["required"] * (p in self.required)
                                    + ["open"] * (p in self.open))
                for p, t in sorted(self.types.items())}

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> DocShape:
        out = cls()
        for written, text in d.items():
            path = "" if written == ROOT else written
            types, *marks = text.split(" ")
            out.types[path] = set() if types == "any" else set(types.split("|"))
            if "required" in marks:
                out.required.add(path)
            if "open" in marks:
                out.open.add(path)
        return out


class _Flattener:
    def __init__(self, spec: dict) -> None:
        self.definitions = spec.get("definitions", {})

    def resolve(self, schema: dict, stack: tuple[str, ...]) -> tuple[dict, tuple[str, ...]] | None:
        """Follow `$ref`s; None when a reference loops back a second time (a recursive type is
        flattened one level deep, then left open)."""
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if stack.count(ref) >= 2:
                return None
            stack = (*stack, ref)
            schema = self.definitions.get(ref.rsplit("/", 1)[-1], {})
        return schema, stack

    def parts(self, schema: dict, stack: tuple[str, ...]) -> list[tuple[dict, tuple[str, ...]]]:
        """The schema and its `allOf` members, each resolved: their union is what it allows."""
        got = self.resolve(schema, stack)
        if got is None:
            return []
        schema, stack = got
        out = [(schema, stack)]
        for sub in schema.get("allOf", ()):
            out += self.parts(sub, stack)
        return out

    def walk(self, schema: dict, path: str, out: DocShape, stack: tuple[str, ...] = ()) -> None:
        parts = self.parts(schema, stack)
        if not parts or len(stack) > MAX_DEPTH * 4 or path.count(".") + path.count("[") > MAX_DEPTH:
            out.open.add(path)
            return
        types: set[str] = set()
        for s, _ in parts:
            t = s.get("type")
            types.update(t if isinstance(t, list) else [t] if t else [])
            if s.get("x-nullable"):
                types.add("null")
            if "properties" in s or "additionalProperties" in s:
                types.add("object")
            if "items" in s:
                types.add("array")
        if not types - {"null"}:
            out.open.add(path)  # no type at all: anything is allowed here
        out.add(path, types & set(JSON_TYPES))
        for s, st in parts:
            self._children(s, st, path, out)

    def _children(self, s: dict, stack: tuple[str, ...], path: str, out: DocShape) -> None:
        for name in s.get("required", ()) if isinstance(s.get("required"), list) else ():
            out.required.add(f"{path}.{name}")
        for name, sub in (s.get("properties") or {}).items():
            self.walk(sub, f"{path}.{name}", out, stack)
        extra = s.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            self.walk(extra, f"{path}.*", out, stack)
        elif extra is True or extra == {}:
            out.add(f"{path}.*", set())
            out.open.add(f"{path}.*")
        elif s.get("type") == "object" and not s.get("properties") and extra is None:
            out.open.add(path)  # a free-form object
        if isinstance(s.get("items"), dict):
            self.walk(s["items"], f"{path}[]", out, stack)


def flatten(schema: dict, spec: dict | None = None) -> DocShape:
    """One schema (resolved against `spec`'s definitions) as a DocShape."""
    out = DocShape()
    _Flattener(spec or {}).walk(schema, "", out)
    out.required = {p for p in out.required if p in out.types}
    for path in out.open - set(out.types):  # e.g. a loop back into a definition
        out.types[path] = set()
    return out


def _is_json(schema: dict) -> bool:
    """Binary streams (`type: file`, `format: binary`) and plain text have no JSON shape."""
    return schema.get("type") != "file" and schema.get("format") != "binary"


def spec_shapes(spec: dict, templates: dict[tuple[str, str], tuple[str, str]] | None = None
                ) -> dict[str, dict[str, dict]]:
    """`"METHOD route"` -> {"200": shape dict, ..., "request": shape dict} for one spec.

    `route` is the Engine's mux template where the routes CSVs know it (the template the
    recorder tags exchanges with), else the swagger path; compare them with db.routes.route_shape.
    """
    templates = templates or {}
    out: dict[str, dict[str, dict]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            route = templates.get((method.upper(), path), (path, ""))[0]
            entry: dict[str, dict] = {}
            for code, resp in op["responses"].items():
                schema = (resp or {}).get("schema")
                if str(code).isdigit() and isinstance(schema, dict) and _is_json(schema):
                    entry[str(code)] = flatten(schema, spec).to_dict()
            for param in op.get("parameters", ()):
                if param.get("in") == "body" and isinstance(param.get("schema"), dict) \
                        and _is_json(param["schema"]):
                    entry["request"] = flatten(param["schema"], spec).to_dict()
            if entry:
                out[f"{method.upper()} {route}"] = dict(sorted(entry.items()))
    return dict(sorted(out.items()))


def _dump(data: object) -> str:
    """One route and one status per line group: an API bump is a readable diff."""
    return json.dumps(data, indent=1, sort_keys=False, separators=(",", ": ")) + "\n"


def write_spec_shapes(spec_path: Path, out_dir: Path = DATA_DIR,
                      templates_from: Path | None = None) -> Path:
    version = spec_version(spec_path)
    shapes = spec_shapes(_load_yaml(spec_path), _known_templates(templates_from or spec_path.parent))
    out = out_dir / f"{SHAPES_PREFIX}{version}.json"
    out.write_text(_dump({"api_version": version, "source": spec_path.name, "operations": shapes}))
    return out


def generate_shapes(shared: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Every released spec's shapes file (the as-released variant of 1.41 is not a table)."""
    return [write_spec_shapes(spec, out_dir, shared / "specs")
            for spec in sorted((shared / "specs").glob("engine-api-v*.yaml"))
            if "as-released" not in spec.name]


# --- reading ----------------------------------------------------------------------------


def shape_files(data_dir: Path = DATA_DIR) -> dict[str, Path]:
    """API version -> shapes file, oldest first."""
    found = {p.stem.removeprefix(SHAPES_PREFIX): p for p in data_dir.glob(f"{SHAPES_PREFIX}*.json")}
    return dict(sorted(found.items(), key=lambda kv: version_key(kv[0])))


def read_spec_shapes(version: str, data_dir: Path = DATA_DIR) -> dict[str, dict[str, DocShape]]:
    """`"METHOD route"` -> {"200": DocShape, "request": DocShape} of one spec version."""
    path = shape_files(data_dir).get(version)
    if path is None:
        raise KeyError(version)
    ops = json.loads(path.read_text())["operations"]
    return {k: {code: DocShape.from_dict(d) for code, d in v.items()} for k, v in ops.items()}


def route_map_paths(data_dir: Path = DATA_DIR) -> dict[str, list[str]]:
    """`"METHOD route"` -> the paths any spec documents as maps (requests and responses)."""
    maps: dict[str, set[str]] = {}
    for version in shape_files(data_dir):
        for key, entry in read_spec_shapes(version, data_dir).items():
            for shape in entry.values():
                maps.setdefault(key, set()).update(shape.maps)
    return {k: sorted(v) for k, v in sorted(maps.items()) if v}
