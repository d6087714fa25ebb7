"""Which JSON objects are maps with dynamic keys (labels, networks, ports, options...): one rule.

A shape must never hold a map's keys (a label's name, a network's name, a container id), so
every object of a body is either a struct (its keys are schema field names, kept in paths) or
a map (its keys become `*`). The decision, in this order:

1. the member name: objects under a name the Engine's OpenAPI documents as a map
   (`additionalProperties` without `properties`) in `db/data/map-paths.json`, generated
   from the specs by `python -m dockdrift.db.mapkeys SHARED_DIR` (names that are a map in one
   place and a struct in another are left to the rule);
2. the keys: an object is a map when any key is not a plain identifier (`com.example/x`,
   `80/tcp`, `sha256:...`, `/data`, `max-size`), looks like an id (12+ hex digits), or when it
   has more than MAX_STRUCT_KEYS keys.
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "map-paths.json"
MAX_STRUCT_KEYS = 200
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_HEXISH = re.compile(r"[0-9a-fA-F]{12,}\Z")


@lru_cache(maxsize=1)
def map_fields() -> frozenset[str]:
    """Member names whose values are maps wherever the documentation shows them."""
    return frozenset(json.loads(DATA.read_text())["map_fields"])


@lru_cache(maxsize=8192)
def _field_like(key: str) -> bool:
    return _FIELD.match(key) is not None and _HEXISH.match(key) is None


def is_map(name: str | None, obj: dict[str, Any]) -> bool:
    """True when `obj` (the value of member `name`; None for the body or an array element)
    has dynamic keys that must not appear in a shape."""
    if name is not None and name in map_fields():
        return True
    if len(obj) > MAX_STRUCT_KEYS:
        return True
    return not all(isinstance(k, str) and _field_like(k) for k in obj)


# -- generation from the OpenAPI documents (Swagger 2.0) ------------------------------------

def spec_members(spec: dict) -> tuple[set[str], set[str]]:
    """(member names documented as maps, member names documented as structs) in one spec."""
    maps: set[str] = set()
    structs: set[str] = set()
    defs = spec.get("definitions", {})

    def walk(schema: Any, name: str | None, refs: frozenset[str]) -> None:
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in refs:
                return
            walk(defs.get(ref.rsplit("/", 1)[-1]), name, refs | {ref})
            return
        for part in schema.get("allOf", []):
            walk(part, name, refs)
        props, extra = schema.get("properties"), schema.get("additionalProperties")
        if props:
            if name:
                structs.add(name)
            for key, sub in props.items():
                walk(sub, key, refs)
        elif extra is not None and extra is not False:
            if name:
                maps.add(name)
            walk(extra, None, refs)
        if "items" in schema:  # an array's elements: their member name is not this one
            walk(schema["items"], None, refs)

    for schema in defs.values():
        walk(schema, None, frozenset())
    for item in spec.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                walk(param.get("schema"), None, frozenset())
            for resp in op.get("responses", {}).values():
                walk(resp.get("schema") if isinstance(resp, dict) else None, None, frozenset())
    return maps, structs


def generate(shared: Path) -> dict:
    """The data file's content from every `specs/engine-api-v*.yaml` under `shared`."""
    import yaml

    maps: set[str] = set()
    structs: set[str] = set()
    sources = []
    for path in sorted((shared / "specs").glob("engine-api-v*.yaml")):
        with open(path) as f:
            spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        m, s = spec_members(spec)
        maps |= m
        structs |= s
        sources.append(path.name)
    return {"sources": sources, "map_fields": sorted(maps - structs),
            "ambiguous": sorted(maps & structs)}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m dockdrift.db.mapkeys SHARED_DIR (with specs/)")
    DATA.write_text(json.dumps(generate(Path(sys.argv[1])), indent=1) + "\n")
    print(f"wrote {DATA}")
