"""The documented tables as checked-in data files: generate them, read them.

`python -m db.tables generate --shared ../shared` rewrites db/data/ from the source document's
CSV (checked against its text), the Engine's OpenAPI specs and Podman's routes CSVs. `python -m
db.tables add-spec engine-api-vX.YY.yaml` adds one more Engine version, `add-podman
podman-routes-vX.Y.Z.csv` one more Podman release: one command, one reviewable data file.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dockdrift.db.table_files import DATA_DIR, version_key, write_csv

SEED_FILE = "seed-v1.22.csv"
SEED_COLUMNS = ["method", "route", "handler", "engine_handler", "swarm_codes", "docker_codes"]
SPEC_COLUMNS = ["method", "route", "handler", "operation_id", "codes", "experimental"]
NOT_AN_API = "n/a"
# The source document's route typos (a stray quote), corrected in the seed CSV and here.
SEED_TYPOS = {
    '/containers/{name:.*}/archive"': "/containers/{name:.*}/archive",
    '/volumes/{name:.*}"': "/volumes/{name:.*}",
}


@dataclass(frozen=True)
class RouteRow:
    """One route of one documented table, as read from db/data."""

    source: str  # seed | spec
    api_version: str
    method: str
    route: str
    handler: str | None
    operation_id: str | None
    swarm_codes: tuple[int, ...] | None  # None: the table says nothing for Swarm
    engine_codes: tuple[int, ...] | None  # None: documented as not an API (n/a) / undocumented
    engine_absent: bool = False


def short_handler(raw: str) -> str:
    """`c.postContainersStart` -> `postContainersStart`; middleware wrappers unwrapped."""
    raw = raw.strip()
    inner = re.fullmatch(r"[\w.]+\((?P<arg>[\w.]+)\)", raw)
    if inner:
        raw = inner["arg"]
    if re.fullmatch(r"[\w.]+", raw):
        return raw.rsplit(".", 1)[-1]
    return raw


def _codes(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(c) for c in text.split()}))


def read_seed(path: Path | None = None) -> list[RouteRow]:
    rows = []
    with open(path or DATA_DIR / SEED_FILE, newline="") as f:
        for r in csv.DictReader(f):
            absent = r["docker_codes"].strip() == NOT_AN_API
            rows.append(RouteRow(
                "seed", "1.22", r["method"], r["route"], r["handler"] or None, None,
                _codes(r["swarm_codes"]), None if absent else _codes(r["docker_codes"]), absent,
            ))
    return rows


def spec_files() -> dict[str, Path]:
    """API version -> data file, e.g. {"1.41": db/data/spec-v1.41.csv}."""
    found = {}
    for p in DATA_DIR.glob("spec-v*.csv"):
        found[p.stem.removeprefix("spec-v")] = p
    return dict(sorted(found.items(), key=lambda kv: version_key(kv[0])))


def read_spec(version: str) -> list[RouteRow]:
    path = spec_files().get(version)
    if path is None:
        raise KeyError(version)
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            codes = _codes(r["codes"]) if r["codes"].strip() else None
            rows.append(RouteRow("spec", version, r["method"], r["route"], r["handler"] or None,
                                 r["operation_id"] or None, None, codes))
    return rows


# --- generation -------------------------------------------------------------------------


def _parse_source_document(text: str) -> list[tuple[str, str, str]]:
    """(method, route, handler) in document order, from the source document's text."""
    out, method, route = [], None, None
    for line in text.splitlines():
        s = line.strip()
        if s in {"GET", "POST", "PUT", "DELETE"}:
            method = s
        elif s.startswith("• Route:"):
            route = s.split(":", 1)[1].strip()
        elif s.startswith("• Handler:") and method and route:
            out.append((method, SEED_TYPOS.get(route, route), s.split(":", 1)[1].strip()))
    return out


def generate_seed(shared: Path) -> list[dict[str, str]]:
    """The seed table from the CSV, checked route by route against the source document."""
    seed_dir = shared / "seed"
    with open(seed_dir / "status-codes-v1.22.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    doc = _parse_source_document((seed_dir / "status-code-comparison-to-docker.txt").read_text())
    csv_keys = [(r["method"], r["route"], r["handler"]) for r in rows]
    if csv_keys != doc:
        diff = set(csv_keys) ^ set(doc)
        raise ValueError(f"seed CSV and source document disagree on routes: {sorted(diff)[:5]}")
    engine_names = {}
    with open(seed_dir / "engine-routes-v1.22-docker-v1.10.3.csv", newline="") as f:
        for r in csv.DictReader(f):
            engine_names[(r["method"], r["engine_route"])] = short_handler(r["engine_handler"])
    out = []
    for r in rows:
        out.append({
            "method": r["method"], "route": r["route"], "handler": r["handler"],
            "engine_handler": engine_names.get((r["method"], r["route"]), ""),
            "swarm_codes": r["swarm_codes"], "docker_codes": r["docker_codes"],
        })
    return out


def _load_yaml(path: Path) -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path) as f:
        return yaml.load(f, Loader=loader)


def spec_operations(spec: dict) -> dict[tuple[str, str], tuple[str | None, str]]:
    """(METHOD, swagger path) -> (operationId, "200 404 500") from an OpenAPI 2 document."""
    ops = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            codes = sorted(int(c) for c in op["responses"] if str(c).isdigit())
            ops[(method.upper(), path)] = (op.get("operationId"), " ".join(map(str, codes)))
    return ops


def _template_for(swagger_path: str) -> str:
    """A swagger path without a known mux template: `{id}` -> mux `{id}` ([^/]+)."""
    return swagger_path


def generate_spec(spec_path: Path, routes_csv: Path | None,
                  known_templates: dict[tuple[str, str], tuple[str, str]] | None = None
                  ) -> list[dict[str, str]]:
    """One version's spec table: Engine routes (mux templates, handlers) with documented codes.

    With the Engine's routes CSV, every route is listed (undocumented ones with empty codes)
    and the CSV's codes are checked against the YAML. Without it, the YAML's operations are
    mapped to mux templates through `known_templates` ((METHOD, swagger path) -> template,
    handler) taken from the other versions' route CSVs.
    """
    ops = spec_operations(_load_yaml(spec_path))
    out = []
    if routes_csv is not None:
        with open(routes_csv, newline="") as f:
            for r in csv.DictReader(f):
                key = (r["method"], r["swagger_path"])
                op_id, codes = ops.get(key, (None, ""))
                if r["swagger_path"] and (op_id != r["operationId"] or codes != r["documented_codes"]):
                    raise ValueError(f"{routes_csv.name}: {key} disagrees with {spec_path.name}: "
                                     f"{r['operationId']} {r['documented_codes']!r} vs {op_id} {codes!r}")
                out.append({"method": r["method"], "route": r["engine_route"],
                            "handler": short_handler(r["engine_handler"]),
                            "operation_id": op_id or "", "codes": codes,
                            "experimental": r["experimental"]})
        return out
    known_templates = known_templates or {}
    for (method, path), (op_id, codes) in sorted(ops.items(), key=lambda kv: kv[0][1]):
        route, handler = known_templates.get((method, path), (_template_for(path), ""))
        out.append({"method": method, "route": route, "handler": handler,
                    "operation_id": op_id or "", "codes": codes, "experimental": ""})
    return out


def _known_templates(shared_specs: Path) -> dict[tuple[str, str], tuple[str, str]]:
    known = {}
    for routes_csv in sorted(shared_specs.glob("engine-routes-v*.csv")):
        with open(routes_csv, newline="") as f:
            for r in csv.DictReader(f):
                if r["swagger_path"]:
                    known[(r["method"], r["swagger_path"])] = (
                        r["engine_route"], short_handler(r["engine_handler"]))
    return known


def spec_version(spec_path: Path) -> str:
    m = re.search(r"v(\d+\.\d+)", spec_path.name)
    if m:
        return m.group(1)
    return str(_load_yaml(spec_path)["info"]["version"])


def add_spec(spec_path: Path, routes_csv: Path | None = None, out_dir: Path = DATA_DIR,
             templates_from: Path | None = None) -> Path:
    """Write out_dir/spec-vX.YY.csv for one OpenAPI document; returns the file written."""
    version = spec_version(spec_path)
    if routes_csv is None:
        candidate = spec_path.parent / f"engine-routes-v{version}.csv"
        routes_csv = candidate if candidate.exists() else None
    known = _known_templates(templates_from or spec_path.parent)
    rows = generate_spec(spec_path, routes_csv, known)
    out = out_dir / f"spec-v{version}.csv"
    write_csv(out, SPEC_COLUMNS, rows)
    return out


def generate_all(shared: Path, out_dir: Path = DATA_DIR) -> list[Path]:
    """Regenerate every data file from ../shared (seed, each released spec, each Podman)."""
    from dockdrift.db.podman_tables import add_podman

    written = []
    seed = out_dir / SEED_FILE
    write_csv(seed, SEED_COLUMNS, generate_seed(shared))
    written.append(seed)
    for spec in sorted((shared / "specs").glob("engine-api-v*.yaml")):
        if "as-released" in spec.name:
            continue  # a variant of v1.41 kept for comparison, not a table of its own
        written.append(add_spec(spec, out_dir=out_dir, templates_from=shared / "specs"))
    for routes in sorted((shared / "specs").glob("podman-routes-v*.csv")):
        written.append(add_podman(routes, out_dir))
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m db.tables", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="rewrite db/data from the shared seed and specs")
    g.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    g.add_argument("--out", type=Path, default=DATA_DIR)
    a = sub.add_parser("add-spec", help="add one Engine OpenAPI version as a data file")
    a.add_argument("spec", type=Path)
    a.add_argument("--routes", type=Path, help="the Engine's routes CSV for that version")
    a.add_argument("--out", type=Path, default=DATA_DIR)
    pod = sub.add_parser("add-podman", help="add one Podman release's routes CSV as a data file")
    pod.add_argument("routes", type=Path, help="podman-routes-vX.Y.Z.csv")
    pod.add_argument("--out", type=Path, default=DATA_DIR)
    args = p.parse_args(argv)
    try:
        if args.cmd == "generate":
            for path in generate_all(args.shared, args.out):
                print(path)
        elif args.cmd == "add-podman":
            from dockdrift.db.podman_tables import add_podman

            print(add_podman(args.routes, args.out))
        else:
            print(add_spec(args.spec, args.routes, args.out))
    except (OSError, ValueError, KeyError) as exc:
        print(f"dockdrift tables: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
