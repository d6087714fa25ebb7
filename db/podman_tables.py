"""Podman's documented table: its compat and libpod routes as registered, with documented codes.

Generated from `specs/podman-routes-vX.Y.Z.csv` (read from Podman's `pkg/api/server/register_*.go`,
see `specs/podman-README.md`) into `db/data/podman-vX.Y.Z.csv`:

- `route` is Podman's mux template, version prefix dropped. Podman writes `{name}` (one segment)
  where Docker writes `{name:.*}`; comparisons match templates by shape (`analysis.compare`).
- `versioned` is the mux pattern of the `/v{version}` prefix a route is registered under (empty:
  only without a prefix), `unversioned` is `yes` when it is registered without one too. Libpod
  routes exist only under `/v{version:[0-9][0-9A-Za-z.-]*}/libpod/…` (except `/libpod/_ping`).
- Method `*` rows are registered without `.Methods` (any method). `path_prefix` = `yes` marks the
  `r.PathPrefix(P)` catch-alls (`noSwarm`, 503), which match P and everything below it. They
  document no codes, and the route tagger does not use them (db.routes).
- `registered` is `register_x.go:LINE`, the first registration of the row.

`python -m db.tables add-podman podman-routes-v4.4.0.csv` adds another Podman release.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dockdrift.db.table_files import DATA_DIR, version_key, write_csv

PODMAN_COLUMNS = ["method", "route", "api", "handler", "operation_id", "codes", "versioned",
                  "unversioned", "path_prefix", "registered"]
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "*"}
# mux version patterns (handler_api.go VersionedPath; register_manifest.go; register_swarm.go)
VERSIONED = "[0-9][0-9A-Za-z.-]*"
MANIFEST_V3 = "[0-3][0-9A-Za-z.-]*"
MANIFEST_V4 = "[4-9][0-9A-Za-z.-]*"
NO_SWARM = "[0-9.]+"
# register_manifest.go:12-13: the v3 and v4 subrouters take different version prefixes
# (the same registrations at 4.3.1 and 5.8.3).
MANIFEST_SUBROUTERS: dict[tuple[str, str], tuple[str, bool]] = {
    ("POST", "/libpod/manifests/{name}/push"): (MANIFEST_V3, False),
    ("POST", "/libpod/manifests/create"): (MANIFEST_V3, False),
    ("POST", "/libpod/manifests/{name:.*}/add"): (MANIFEST_V3, False),
    ("POST", "/libpod/manifests/{name:.*}/registry/{destination:.*}"): (MANIFEST_V4, False),
    ("POST", "/libpod/manifests/{name:.*}"): (MANIFEST_V4, False),
    ("PUT", "/libpod/manifests/{name:.*}"): (MANIFEST_V4, False),
}
# Registrations the routes CSV cannot tell from the general rule (compat: both forms; libpod:
# versioned only; PathPrefix: both, with NO_SWARM), read in the release's source:
# (method, route) -> (versioned pattern or "", registered without a prefix too).
REGISTRATION_EXCEPTIONS: dict[str, dict[tuple[str, str], tuple[str, bool]]] = {
    "4.3.1": {
        # register_secrets.go:210-211: the unversioned twin is the `/secret/{name}` typo.
        ("DELETE", "/secrets/{name}"): (VERSIONED, False),
        ("DELETE", "/secret/{name}"): ("", True),
        **MANIFEST_SUBROUTERS,
    },
    # The typo is gone (DELETE /secrets/{name} registered both ways, the general rule).
    "5.8.3": MANIFEST_SUBROUTERS,
}
UNVERSIONED_LIBPOD = {"/libpod/_ping"}  # register_ping.go:63


@dataclass(frozen=True)
class PodmanRow:
    """One route of one Podman table, as read from db/data."""

    version: str
    method: str  # `*`: any method
    route: str
    api: str  # compat | libpod
    handler: str | None  # several handlers are space-separated
    operation_id: str | None  # several operationIds are space-separated
    codes: tuple[int, ...] | None  # None: no swagger block documents it
    versioned: str  # the /v{version} pattern it is registered under; "" = not versioned
    unversioned: bool
    path_prefix: bool
    registered: str

    @property
    def source(self) -> str:
        return f"podman-v{self.version}"


def podman_version(routes_csv: Path) -> str:
    name = routes_csv.name
    if not (name.startswith("podman-routes-v") and name.endswith(".csv")):
        raise ValueError(f"{name}: expected a file named podman-routes-vX.Y.Z.csv")
    return name.removeprefix("podman-routes-v").removesuffix(".csv")


def _registration(version: str, r: dict[str, str]) -> tuple[str, bool, bool]:
    """(versioned pattern, unversioned, path_prefix) of one routes-CSV row."""
    method, route = r["method"], r["podman_route"]
    path_prefix = method == "*" and route.endswith("/")
    exception = REGISTRATION_EXCEPTIONS.get(version, {}).get((method, route))
    if exception:
        return (*exception, path_prefix)
    if path_prefix:
        return NO_SWARM, True, True
    if r["api"] == "libpod" and route not in UNVERSIONED_LIBPOD:
        return VERSIONED, False, False
    return VERSIONED, True, False


def _check(name: str, r: dict[str, str], seen: set[tuple[str, str]]) -> None:
    key = (r["method"], r["podman_route"])
    api = "libpod" if r["podman_route"].startswith("/libpod/") else "compat"
    codes = r["documented_codes"].split()
    problems = [
        f"duplicate row {key}" if key in seen else "",
        f"unknown method {r['method']!r}" if r["method"] not in METHODS else "",
        f"api {r['api']!r} but the route says {api}" if r["api"] != api else "",
        "codes not ascending integers" if not all(c.isdigit() for c in codes)
        or codes != sorted(codes, key=int) else "",
        "codes without an operationId" if codes and not r["operationId"] else "",
    ]
    problems = [p for p in problems if p]
    if problems:
        raise ValueError(f"{name}: {r['method']} {r['podman_route']}: {'; '.join(problems)}")
    seen.add(key)


def generate_podman(routes_csv: Path) -> list[dict[str, str]]:
    """One Podman release's table from its routes CSV, checked row by row."""
    version = podman_version(routes_csv)
    out, seen = [], set()
    with open(routes_csv, newline="") as f:
        for r in csv.DictReader(f):
            _check(routes_csv.name, r, seen)
            versioned, unversioned, prefix = _registration(version, r)
            out.append({
                "method": r["method"], "route": r["podman_route"], "api": r["api"],
                "handler": r["handler"], "operation_id": r["operationId"],
                "codes": r["documented_codes"], "versioned": versioned,
                "unversioned": "yes" if unversioned else "", "path_prefix": "yes" if prefix else "",
                "registered": f"{r['source_file']}:{r['line']}",
            })
    return out


def add_podman(routes_csv: Path, out_dir: Path = DATA_DIR) -> Path:
    """Write out_dir/podman-vX.Y.Z.csv for one Podman release; returns the file written."""
    rows = generate_podman(routes_csv)
    out = out_dir / f"podman-v{podman_version(routes_csv)}.csv"
    write_csv(out, PODMAN_COLUMNS, rows)
    return out


def podman_files(data_dir: Path = DATA_DIR) -> dict[str, Path]:
    """Podman version -> data file, oldest first, e.g. {"4.3.1": db/data/podman-v4.3.1.csv}."""
    found = {p.stem.removeprefix("podman-v"): p for p in data_dir.glob("podman-v*.csv")}
    return dict(sorted(found.items(), key=lambda kv: version_key(kv[0])))


def read_podman(version: str) -> list[PodmanRow]:
    path = podman_files().get(version)
    if path is None:
        raise KeyError(version)
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            codes = tuple(int(c) for c in r["codes"].split()) if r["codes"].strip() else None
            rows.append(PodmanRow(
                version, r["method"], r["route"], r["api"], r["handler"] or None,
                r["operation_id"] or None, codes, r["versioned"], r["unversioned"] == "yes",
                r["path_prefix"] == "yes", r["registered"]))
    return rows
