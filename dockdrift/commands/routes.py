"""Print the documented tables: routes and the status codes each table documents.

  dockdrift routes                               # the v1.22 source document, Swarm and Docker
  dockdrift routes --version 1.41 --route /containers --method POST
  dockdrift routes --version 1.55 --format json
  dockdrift routes --table podman --route /libpod/containers   # Podman 4.3.1's compat + libpod

Reads the data files shipped with dockdrift (db/data), so it needs no capture.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockdrift.db.implementations import TARGET_NAMES
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

SEED = "1.22"
COLUMNS = ["method", "route", "handler", "operation_id", "swarm", "docker"]
PODMAN_COLUMNS = ["method", "route", "api", "handler", "operation_id", "podman", "versioned",
                  "unversioned", "path_prefix"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", default=SEED,
                   help="1.22: the source document (Swarm and Docker columns); "
                        "or an Engine OpenAPI version such as 1.41 or 1.55")
    p.add_argument("--table", metavar="seed|spec:VERSION|podman[:VERSION]",
                   help="which table (instead of --version): podman is Podman's compat and "
                        "libpod routes, with how each is registered (`*`: any method)")
    p.add_argument("--method", help="only this HTTP method")
    p.add_argument("--route", help="only routes containing this text")
    p.add_argument("--target", choices=sorted(TARGET_NAMES),
                   help="only this column (the spec tables document the Engine only, "
                        "Podman's table Podman only)")
    p.add_argument("--format", choices=["text", "markdown", "html", "json", "csv"],
                   default="text")
    p.add_argument("--output", "-o", help="write here instead of stdout")


def _codes(codes: tuple[int, ...] | None, absent: bool = False) -> str:
    if absent:
        return "n/a"
    return " ".join(map(str, codes)) if codes else "-"


def table(version: str = SEED) -> pd.DataFrame:
    """One row per route of one documented table; codes as space-separated text."""
    import pandas as pd

    from dockdrift.db import tables

    if version == SEED:
        rows = tables.read_seed()
    else:
        try:
            rows = tables.read_spec(version.removeprefix("v"))
        except KeyError:
            known = ", ".join([SEED, *tables.spec_files()])
            raise UsageError(f"no documented table for version {version!r}; "
                             f"available: {known}") from None
    data = [[r.method, r.route, r.handler or "", r.operation_id or "",
             _codes(r.swarm_codes) if r.source == "seed" else "",
             _codes(r.engine_codes, r.engine_absent)] for r in rows]
    return pd.DataFrame(data, columns=COLUMNS)


def podman_table(version: str | None = None) -> pd.DataFrame:
    """Podman's table (the newest, or `version`): one row per registered route."""
    import pandas as pd

    from dockdrift.db import podman_tables

    known = list(podman_tables.podman_files())
    version = version or (known[-1] if known else None)
    try:
        rows = podman_tables.read_podman(version or "")
    except KeyError:
        raise UsageError(f"no Podman table for {version!r}; available: "
                         f"{', '.join(known) or 'none'}") from None
    data = [[r.method, r.route, r.api, r.handler or "", r.operation_id or "", _codes(r.codes),
             r.versioned, "yes" if r.unversioned else "", "yes" if r.path_prefix else ""]
            for r in rows]
    return pd.DataFrame(data, columns=PODMAN_COLUMNS)


def _parse_table(text: str) -> tuple[str, str | None]:
    """`seed` | `spec:1.41` | `podman` | `podman:4.3.1` -> (kind, version)."""
    kind, _, version = text.partition(":")
    version = version.removeprefix("v") or None
    if kind == "seed" and version in (None, SEED):
        return "seed", SEED
    if kind == "spec" and version:
        return "spec", version
    if kind == "podman":
        return "podman", version
    raise UsageError(f"--table must be seed, spec:VERSION, podman or podman:VERSION, "
                     f"not {text!r}")


def select(df: pd.DataFrame, method: str | None, route: str | None,
           target: str | None, seed: bool) -> pd.DataFrame:
    """Apply the filters; drop the columns that say nothing for this table or target."""
    if method:
        df = df[df["method"] == method.upper()]
    if route:
        df = df[df["route"].str.contains(route, regex=False)]
    if "podman" in df.columns:
        if target not in (None, "podman"):
            raise UsageError("Podman's table documents Podman only: use --target podman "
                             "or no --target")
        return df.reset_index(drop=True)
    if target == "podman":
        raise UsageError("only Podman's table has a Podman column: use --table podman")
    drop = ["operation_id"] if seed else ["swarm"]
    if target == "engine":
        drop.append("swarm")
    elif target == "swarm":
        if not seed:
            raise UsageError("the Engine OpenAPI tables have no Swarm column: "
                             "use --version 1.22 with --target swarm")
        drop.append("docker")
    return df.drop(columns=sorted(set(drop))).reset_index(drop=True)


def render_table(df: pd.DataFrame, fmt: str, title: str) -> str:
    from dockdrift.render import base as render

    headers, rows = list(df.columns), df.astype(str).values.tolist()
    if fmt == "json":
        return render.to_json(df.to_dict("records"))
    if fmt == "csv":
        return render.to_csv(headers, rows)
    if fmt == "markdown":
        return f"# {title}\n\n{render.md_table(headers, rows)}\n"
    if fmt == "html":
        from dockdrift.render.html import page

        return page("table.html", title, f"{len(rows)} routes", headers=headers, rows=rows)
    return f"{title}\n\n{render.text_table([h.upper() for h in headers], rows)}\n"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dockdrift.render.base import write_output

    kind, version = _parse_table(args.table) if args.table else (
        ("seed", SEED) if args.version == SEED else ("spec", args.version))
    if kind == "podman":
        from dockdrift.db.podman_tables import podman_files

        version = version or next(reversed(podman_files()), None)
        df = select(podman_table(version), args.method, args.route, args.target, False)
        title = f"Documented status codes, Podman {version} (compat and libpod routes)"
    else:
        seed = kind == "seed"
        df = select(table(version or SEED), args.method, args.route, args.target, seed)
        title = ("Documented status codes, API v1.22 (source document: Swarm vs Docker)" if seed
                 else f"Documented status codes, Engine API v{version} (OpenAPI)")
    write_output(render_table(df, args.format, title), Path(args.output) if args.output else None)
    return 0
