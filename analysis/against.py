"""Which documented table an exchange is compared with (`--against`), and what it documents.

The tables (the `documented_codes` frame) are named `<source>-v<version>`: `seed-v1.22` (the
source document: a Swarm and a Docker column), `spec-v1.41`, … (the Engine's OpenAPI) and
`podman-v4.3.1` (Podman's compat and libpod routes). What `--against` picks, per exchange:

- `seed`: the source document; its Swarm column for `swarm` traffic, its Docker column for
  everything else (engine, podman, unknown).
- `spec`: the Engine table nearest at or below the exchange's API version; `spec:1.41` one table.
- `podman`: Podman's table (the one nearest at or below the exchange's `target_version` when
  that is a Podman release; the newest otherwise); `podman:4.3.1` one table.
- `own`: each implementation's own documentation: engine -> as `spec` (a request without a
  /vX.Y prefix at the API version its release speaks, db.implementations.RELEASES: Engine 28.5
  -> spec-v1.51), swarm -> the Swarm column of the source document, podman -> as `podman`
  (Podman 5.8.6 -> podman-v5.8.3); an unknown or undetected target -> as `seed`.

Templates are matched by shape (`route_shape`): variable names and patterns are ignored, so
Podman's `/containers/{name}/json` is Docker's `/containers/{name:.*}/json`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pandas as pd

from dockdrift.analysis.errors import InputError
from dockdrift.db.implementations import api_version_of
from dockdrift.db.routes import route_shape
from dockdrift.db.tables import version_key

SEED_VERSION = "1.22"
KINDS = ("seed", "spec", "own", "podman")

DocInfo = tuple[str, bool, bool, tuple[int, ...]]  # table, in_table, absent, codes


class AgainstError(InputError):
    """`--against` names a table that does not exist; the message lists the ones that do."""




def table_versions(documented: pd.DataFrame, source: str) -> list[str]:
    """The versions of one source's tables present (`spec`, `podman`), oldest first."""
    versions = documented.loc[documented["source"] == source, "api_version"].unique()
    return sorted(versions, key=version_key)


def spec_versions(documented: pd.DataFrame) -> list[str]:
    """The Engine OpenAPI table versions present, oldest first."""
    return table_versions(documented, "spec")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def nearest_version(version: str | None, versions: list[str]) -> str:
    """The newest table at or below `version`; NULL -> newest; older than all -> oldest."""
    if _missing(version):
        return versions[-1]
    wanted = version_key(str(version))
    below = [v for v in versions if version_key(v) <= wanted]
    return below[-1] if below else versions[0]


def parse_against(against: str, versions: list[str],
                  podman: list[str] | None = None) -> tuple[str, str | None]:
    """`seed` | `spec` | `spec:1.41` | `own` | `podman` | `podman:4.3.1` -> (kind, fixed version
    or None for per-exchange). `versions`: the spec tables; `podman`: Podman's tables."""
    podman = podman or []
    available = ", ".join(versions) or "none"
    if against == "seed":
        return "seed", SEED_VERSION
    if against == "own":
        return "own", None
    kind, colon, version = against.partition(":")
    if kind in ("spec", "podman") and not (colon and not version):
        have = versions if kind == "spec" else podman
        what = "Engine OpenAPI" if kind == "spec" else "Podman"
        if not have:
            raise AgainstError(f"no {what} table is loaded (db/data/{kind}-v*.csv)")
        version = version.removeprefix("v")
        if version and version not in have:
            raise AgainstError(f"no {what} table for {'API ' if kind == 'spec' else ''}"
                               f"{version!r}; available versions: {', '.join(have)} "
                               "(or use --against seed)")
        return kind, version or None
    raise AgainstError(f"--against must be seed, spec or spec:VERSION, own, podman or "
                       f"podman:VERSION (versions: {available}; Podman: "
                       f"{', '.join(podman) or 'none'}), not {against!r}")


def doc_target(source: str, target: str) -> str:
    """The column of a table that documents `target`: only the seed has a Swarm column."""
    if source == "seed":
        return "swarm" if target == "swarm" else "engine"
    return "podman" if source == "podman" else "engine"


# `--against own`: the documentation each target kind (db.implementations) has; any other
# target (unknown, not detected) is compared as `seed` does.
OWN_TABLE = {"engine": "spec", "swarm": "seed", "podman": "podman"}


def _resolve(kind: str, fixed: str | None, target: str, target_version: object, api: object,
             versions: dict[str, list[str]]) -> tuple[str, str]:
    """(source, version) of the table one exchange is compared with."""
    if kind == "own":
        kind = OWN_TABLE.get(target, "seed")
        if not versions.get(kind, [SEED_VERSION]):
            kind = "seed"  # that implementation's table is not loaded
        if _missing(api) and kind == "spec":  # no /vX.Y: the release's own API version
            api = api_version_of(target, None if _missing(target_version) else str(target_version))
    if kind == "seed":
        return "seed", SEED_VERSION
    if kind == "spec":
        return "spec", fixed or nearest_version(api, versions["spec"])  # type: ignore[arg-type]
    own_release = target_version if target == "podman" else None
    return "podman", fixed or nearest_version(own_release, versions["podman"])  # type: ignore[arg-type]


def _doc_index(documented: pd.DataFrame) -> dict[tuple, tuple[frozenset[int], bool]]:
    """(source, version, target, method, shape) -> (codes, absent)."""
    index: dict[tuple, tuple[set[int], bool]] = {}
    cols = ["source", "api_version", "target", "method", "route", "status_code", "absent"]
    for source, version, target, method, route, code, absent in zip(
            *(documented[c].tolist() for c in cols), strict=True):
        key = (source, version, target, method, route_shape(route))
        codes, was_absent = index.get(key, (set(), False))
        if not pd.isna(code):
            codes.add(int(code))
        index[key] = (codes, was_absent or bool(absent))
    return {k: (frozenset(c), a) for k, (c, a) in index.items()}


Lookup = Callable[..., DocInfo]


def doc_lookup(documented: pd.DataFrame, against: str) -> Lookup:
    """`lookup(target, method, route, api_version, target_version=None) -> DocInfo`: what the
    chosen table documents for one observed key. Cached: observed tables repeat the same keys
    with every code, handler and version. Raises AgainstError for an unknown `against`."""
    versions = {"spec": spec_versions(documented), "podman": table_versions(documented, "podman")}
    kind, fixed = parse_against(against, versions["spec"], versions["podman"])
    index = _doc_index(documented)
    memo: dict[tuple, DocInfo] = {}

    def lookup(t: str, method: str, route: str, api: object, tv: object = None) -> DocInfo:
        key = (t, method, route, None if _missing(api) else api, None if _missing(tv) else tv)
        if key not in memo:
            source, version = _resolve(kind, fixed, t, key[4], key[3], versions)
            hit = index.get((source, version, doc_target(source, t), method, route_shape(route)))
            codes, absent = hit if hit else (frozenset(), False)
            memo[key] = (f"{source}-v{version}", hit is not None, absent, tuple(sorted(codes)))
        return memo[key]
    return lookup


# --- the interface `dockdrift matrix` builds on ---------------------------------------------

DOCUMENTED_COLUMNS = ["documented", "table", "in_table", "absent"]
KEY_COLUMNS = ["target", "target_version", "api_version", "method", "route"]


@lru_cache(maxsize=1)
def _shipped_documented() -> pd.DataFrame:
    from dockdrift.db.documented import documented_rows

    cols = ["source", "api_version", "target", "method", "route", "handler", "operation_id",
            "status_code", "absent"]
    return pd.DataFrame(documented_rows(), columns=cols)


@lru_cache(maxsize=16)
def _shipped_lookup(against: str) -> Lookup:
    return doc_lookup(_shipped_documented(), against)


def with_documented(frame: pd.DataFrame, against: str = "own",
                    documented: pd.DataFrame | None = None) -> pd.DataFrame:
    """The documented codes of each row's route, from the table `against` picks for it.

    Frozen interface (`dockdrift matrix` builds on it): columns may be added, never renamed.

    Parameters
    ----------
    frame : one row per observed key: `target` (engine | swarm | podman | None), `method`,
        `route` (a template as tagged, or None), and optionally `target_version` (e.g.
        ``4.3.1`` for Podman) and `api_version` (``1.41``); a missing column counts as NULL.
        Other columns are kept as they are.
    against : ``own`` (default: each implementation's own documentation), ``seed``, ``spec``,
        ``spec:1.41``, ``podman``, ``podman:4.3.1`` (see the module docstring).
    documented : the `documented_codes` frame; default: the tables shipped in db/data.

    Returns
    -------
    A copy of `frame` (same index and order) plus `documented` (sorted tuple of ints: the codes
    the table documents for that method and route shape; empty when it documents none),
    `table` (e.g. ``spec-v1.45``, ``podman-v4.3.1``, ``seed-v1.22``), `in_table` (the table
    documents codes for that route, or lists it as absent) and `absent` (the seed's ``n/a``:
    only a 404 is consistent). A NULL route is not in any table. Raises AgainstError.
    """
    lookup = (_shipped_lookup(against) if documented is None
              else doc_lookup(documented, against))
    n = len(frame)
    cols = {c: frame[c].tolist() if c in frame.columns else [None] * n for c in KEY_COLUMNS}
    infos = []
    for t, tv, api, method, route in zip(*(cols[c] for c in KEY_COLUMNS), strict=True):
        t = "unknown" if _missing(t) else t
        if _missing(route):
            table = lookup(t, method, "", api, tv)[0]
            infos.append(((), table, False, False))
        else:
            table, in_table, absent, codes = lookup(t, method, route, api, tv)
            infos.append((codes, table, in_table, absent))
    out = frame.copy()
    for i, name in enumerate(DOCUMENTED_COLUMNS):
        out[name] = pd.Series([info[i] for info in infos], index=frame.index, dtype=object)
    out["in_table"] = out["in_table"].astype(bool)
    out["absent"] = out["absent"].astype(bool)
    return out


def documented_codes_for(target: str | None, target_version: str | None,
                         api_version: str | None, method: str, route: str | None,
                         against: str = "own") -> tuple[int, ...]:
    """The codes the shipped table `against` picks documents for one request's route.

    Frozen interface: ``documented_codes_for("podman", "4.3.1", "1.41", "GET",
    "/containers/{name:.*}/json")`` -> ``(200, 404, 500)`` (Podman's own table). A route the
    table does not list gives ``()``. One row of `with_documented`.
    """
    frame = pd.DataFrame([{"target": target, "target_version": target_version,
                           "api_version": api_version, "method": method, "route": route}])
    return with_documented(frame, against)["documented"].iloc[0]  # type: ignore[no-any-return]
