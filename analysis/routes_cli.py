"""Print the documented tables: routes and the status codes each table documents.

  dockdrift routes                               # the v1.22 source document, Swarm and Docker
  dockdrift routes --version 1.41 --route /containers --method POST
  dockdrift routes --version 1.55 --format json

Reads the data files shipped with dockdrift (db/data), so it needs no capture.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dockdrift.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

SEED = "1.22"
COLUMNS = ["method", "route", "handler", "operation_id", "swarm", "docker"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", default=SEED,
                   help="1.22: the source document (Swarm and Docker columns); "
                        "or an Engine OpenAPI version such as 1.41 or 1.55")
    p.add_argument("--method", help="only this HTTP method")
    p.add_argument("--route", help="only routes containing this text")
    p.add_argument("--target", choices=["engine", "swarm"],
                   help="only this column (the spec tables document the Engine only)")
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

    from db import tables

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


def select(df: pd.DataFrame, method: str | None, route: str | None,
           target: str | None, seed: bool) -> pd.DataFrame:
    """Apply the filters; drop the columns that say nothing for this table or target."""
    if method:
        df = df[df["method"] == method.upper()]
    if route:
        df = df[df["route"].str.contains(route, regex=False)]
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
    from analysis import render

    headers, rows = list(df.columns), df.astype(str).values.tolist()
    if fmt == "json":
        return render.to_json(df.to_dict("records"))
    if fmt == "csv":
        return render.to_csv(headers, rows)
    if fmt == "markdown":
        return f"# {title}\n\n{render.md_table(headers, rows)}\n"
    if fmt == "html":
        return render.html_page(title, [("", render.html_table(headers, rows))],
                                subtitle=f"{len(rows)} routes")
    return f"{title}\n\n{render.text_table([h.upper() for h in headers], rows)}\n"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analysis.render import write_output

    seed = args.version == SEED
    df = select(table(args.version), args.method, args.route, args.target, seed)
    title = ("Documented status codes, API v1.22 (source document: Swarm vs Docker)" if seed
             else f"Documented status codes, Engine API v{args.version} (OpenAPI)")
    write_output(render_table(df, args.format, title), Path(args.output) if args.output else None)
    return 0
