"""Body shapes side by side and against the documentation: pure functions, typed results.

Per (method, route, status[, probe case]) and field: the JSON types each implementation
answered (the union over its shapes; `integer` folds into `number` when both were seen, since
integer ⊂ number), the types its documentation gives, and whether the implementations that
answered agree. Per implementation, what differs from its documentation: required fields it
did not send, fields it sent that the documentation lacks, type mismatches, and `null` where
the documentation says array or object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dockdrift.analysis.shapes.documented import DocIndex
from dockdrift.analysis.shapes.load import ShapeGroup
from dockdrift.db.implementations import implementation_label
from dockdrift.db.routes import route_shape
from dockdrift.db.spec_shapes import DocShape

FINDING_KINDS = ("missing_required", "undocumented", "type_mismatch", "null_for_container")
Key = tuple[str, str, int, str | None]  # method, route shape, status, case


def fold(types: Iterable[str]) -> list[str]:
    """A sorted type list; `integer` disappears into `number` when both are present."""
    s = set(types)
    if "number" in s:
        s.discard("integer")
    return sorted(s)


def compatible(t: str, documented: set[str]) -> bool:
    return t in documented or (t == "integer" and "number" in documented)


def parent(path: str) -> str:
    """`.A.B` -> `.A`; `.A[]` -> `.A`; `[].Id` -> `[]`; `.A` -> `` (the body)."""
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ""


def under_open(path: str, doc: DocShape) -> bool:
    """Inside a part the documentation leaves free-form (or a recursive reference)."""
    return any(path == o or path.startswith((o + ".", o + "[")) for o in doc.open)


def canonical(path: str, maps: list[str]) -> str:
    """A member of a documented map written as the map's values: `.Labels.x` -> `.Labels.*`
    (only when the recorder did not know the map; it never stores keys it knows are keys)."""
    for m in sorted(maps, key=len, reverse=True):
        if path.startswith(m + ".") and not path.startswith(m + ".*"):
            rest = path[len(m) + 1:]
            cut = min((i for i in (rest.find("."), rest.find("[")) if i >= 0), default=len(rest))
            return f"{m}.*{rest[cut:]}"
    return path


class UnknownImplementation(ValueError):
    """An implementation asked for that answered nothing with a body shape; says which did."""


@dataclass(frozen=True)
class FieldRow:
    method: str
    route: str
    status: int
    case: str | None
    field: str
    observed: dict[str, list[str]]
    documented: dict[str, list[str] | None]
    agree: bool

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict deep-copies every list (seconds on a few thousand rows)
        d = {"method": self.method, "route": self.route, "status": self.status,
             "field": self.field, "observed": self.observed, "documented": self.documented,
             "agree": self.agree}
        if self.case is not None:
            d["case"] = self.case
        return d


@dataclass(frozen=True)
class DocFinding:
    implementation: str
    kind: str  # one of FINDING_KINDS
    method: str
    route: str
    status: int
    field: str
    observed: list[str]
    documented: list[str]
    table: str
    case: str | None = None  # the probe case, when the answer was one

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        if self.case is None:
            del d["case"]
        return d


@dataclass(frozen=True)
class RequestField:
    """A field clients sent in request bodies, and whether the documentation has it."""

    method: str
    route: str
    client: str
    field: str
    types: list[str]
    documented: list[str] | None  # None: no documented request body; []: not in it
    count: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ShapeReport:
    implementations: list[str]
    rows: list[FieldRow]
    findings: list[DocFinding]
    requests: list[RequestField] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def disagreements(self) -> list[FieldRow]:
        return [r for r in self.rows if not r.agree]

    @property
    def has_findings(self) -> bool:
        return bool(self.disagreements or self.findings)

    def to_dict(self) -> dict:
        return {"implementations": self.implementations,
                "rows": [r.to_dict() for r in self.rows],
                "findings": [f.to_dict() for f in self.findings],
                "requests": [r.to_dict() for r in self.requests],
                "summary": self.summary}


@dataclass
class _Side:
    """One implementation's answers to one key: the union of its shapes, its documentation."""

    paths: dict[str, set[str]] = field(default_factory=dict)
    count: int = 0
    doc: DocShape | None = None
    table: str | None = None
    doc_weight: int = -1


def _gather(groups: list[ShapeGroup], texts: dict[str, dict[str, list[str]]],
            docs: DocIndex) -> tuple[dict[Key, dict[str, _Side]], dict[Key, str]]:
    sides: dict[Key, dict[str, _Side]] = {}
    routes: dict[Key, str] = {}
    for g in groups:
        shape = texts.get(g.shape_hash)
        if shape is None:
            continue
        key = (g.method, route_shape(g.route), g.status_code, g.case)
        if g.target != "podman" or key not in routes:  # the Engine's template names the row
            routes[key] = g.route
        side = sides.setdefault(key, {}).setdefault(
            implementation_label(g.target, g.target_version, g.min_api_version), _Side())
        side.count += g.count
        if g.count > side.doc_weight:  # the documentation of its most frequent API version
            side.table, side.doc = docs.lookup(g.target, g.target_version, g.method, g.route,
                                               g.status_code, g.api_version)
            side.doc_weight = g.count
        maps = side.doc.maps if side.doc else []
        for path, types in shape.items():
            side.paths.setdefault(canonical(path, maps), set()).update(types)
    return sides, routes


def _findings(label: str, key: Key, route: str, side: _Side) -> list[DocFinding]:
    doc = side.doc
    if doc is None:
        return []
    method, _, status, case = key
    out = []

    def add(kind: str, path: str, observed: Iterable[str], documented: Iterable[str]) -> None:
        out.append(DocFinding(label, kind, method, route, status, path or ".", fold(observed),
                              sorted(documented), side.table or "", case))

    for path, types in sorted(side.paths.items()):
        documented = doc.types.get(path)
        if documented is None:
            if path and not under_open(path, doc):
                add("undocumented", path, types, [])
            continue
        if not documented:
            continue  # documented with no type: anything goes
        bad = {t for t in types if not compatible(t, documented)}
        if "null" in bad and documented & {"array", "object"}:
            add("null_for_container", path, types, documented)
            bad.discard("null")
        if bad:
            add("type_mismatch", path, types, documented)
    has_members = any(p.startswith(".") for p in side.paths)
    for path in sorted(doc.required - set(side.paths)):
        up = parent(path)
        present = has_members if up == "" else "object" in side.paths.get(up, set())
        if present and not under_open(up, doc):
            add("missing_required", path, [], doc.types.get(path, set()))
    return out


def compare_shapes(groups: list[ShapeGroup], texts: dict[str, dict[str, list[str]]],
                   docs: DocIndex, implementations: list[str] | None = None) -> ShapeReport:
    """The field rows and documentation findings of the response shapes in `groups`."""
    sides, routes = _gather(groups, texts, docs)
    known = sorted({lbl for s in sides.values() for lbl in s})
    unknown = [lbl for lbl in implementations or () if lbl not in known]
    if unknown and known:
        raise UnknownImplementation(f"no body shapes recorded for {', '.join(unknown)}; "
                                    f"known: {', '.join(known)}")
    labels = implementations or known
    rows, findings = [], []
    for key in sorted(sides, key=lambda k: (routes[k], k[0], k[2], k[3] or "")):
        present = {lbl: s for lbl, s in sides[key].items() if lbl in labels}
        if not present:
            continue
        method, _, status, case = key
        route = routes[key]
        fields = sorted({p for s in present.values() for p in s.paths})
        for path in fields:
            observed = {lbl: fold(present[lbl].paths.get(path, ())) for lbl in labels
                        if lbl in present}
            documented = {lbl: (None if present[lbl].doc is None
                                else sorted(present[lbl].doc.types.get(path, ())))
                          for lbl in labels if lbl in present}
            agree = len({tuple(t) for t in observed.values()}) <= 1
            rows.append(FieldRow(method, route, status, case, path or ".", observed, documented,
                                 agree))
        for lbl, side in present.items():
            findings += _findings(lbl, key, route, side)
    summary = {"fields": len(rows), "disagree": sum(not r.agree for r in rows),
               "exchanges": sum(g.count for g in groups if implementation_label(
                   g.target, g.target_version, g.min_api_version) in labels),
               "responses": len({(r.method, r.route, r.status, r.case) for r in rows}),
               "findings": {k: sum(f.kind == k for f in findings) for k in FINDING_KINDS}}
    return ShapeReport(labels, rows, findings, [], summary)


def request_fields(groups: list[ShapeGroup], texts: dict[str, dict[str, list[str]]],
                   docs: DocIndex) -> list[RequestField]:
    """Per (method, route, client) the request-body fields sent, with their documentation."""
    acc: dict[tuple[str, str, str, str], tuple[set[str], int, DocShape | None]] = {}
    for g in groups:
        shape = texts.get(g.shape_hash)
        if shape is None:
            continue
        doc = docs.request(g.target, g.target_version, g.method, g.route, g.api_version)
        client = g.client or "unknown"
        for path, types in shape.items():
            path = canonical(path, doc.maps if doc else [])
            k = (g.method, g.route, client, path)
            seen, n, d = acc.get(k, (set(), 0, doc))
            acc[k] = (seen | set(types), n + g.count, d or doc)
    out = []
    for (method, route, client, path), (types, n, doc) in sorted(acc.items()):
        documented = None if doc is None else (
            [] if path not in doc.types and not under_open(path, doc)
            else sorted(doc.types.get(path, ())))
        out.append(RequestField(method, route, client, path or ".", fold(types), documented, n))
    return out
