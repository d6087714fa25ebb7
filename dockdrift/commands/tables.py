"""Regenerate the documented tables from the shared seed and specs, or add one version.

  dockdrift tables generate --shared ../shared   # also the documented body shapes
  dockdrift tables add-spec engine-api-v1.52.yaml [--routes engine-routes-v1.52.csv]
  dockdrift tables add-shapes engine-api-v1.52.yaml          # its documented body shapes
  dockdrift tables add-podman podman-routes-v4.3.1.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dockdrift.db import tables
from dockdrift.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="tables_cmd", required=True)
    g = sub.add_parser("generate", help="rewrite db/data from the seed and specs")
    g.add_argument("--shared", type=Path, required=True, help="folder with seed/ and specs/")
    g.add_argument("--out", type=Path, default=tables.DATA_DIR)
    a = sub.add_parser("add-spec", help="add one Engine OpenAPI version as a data file")
    a.add_argument("spec", type=Path, help="engine-api-vX.YY.yaml")
    a.add_argument("--routes", type=Path, help="the Engine's routes CSV for that version")
    a.add_argument("--out", type=Path, default=tables.DATA_DIR)
    sh = sub.add_parser("add-shapes", help="add one Engine OpenAPI version's documented body "
                        "shapes as a data file (shapes-spec-vX.YY.json)")
    sh.add_argument("spec", type=Path, help="engine-api-vX.YY.yaml")
    sh.add_argument("--templates", type=Path, metavar="DIR",
                    help="folder of engine-routes-v*.csv naming the mux templates (default: "
                         "the spec's folder)")
    sh.add_argument("--out", type=Path, default=tables.DATA_DIR)
    pod = sub.add_parser("add-podman", help="add one Podman release's routes CSV as a data file")
    pod.add_argument("routes", type=Path, help="podman-routes-vX.Y.Z.csv")
    pod.add_argument("--out", type=Path, default=tables.DATA_DIR)


def run(args: argparse.Namespace) -> int:
    try:
        if args.tables_cmd == "generate":
            from dockdrift.db.spec_shapes import generate_shapes

            written = tables.generate_all(args.shared, args.out)
            written += generate_shapes(args.shared, args.out)
        elif args.tables_cmd == "add-shapes":
            from dockdrift.db.spec_shapes import write_spec_shapes

            written = [write_spec_shapes(args.spec, args.out, args.templates)]
        elif args.tables_cmd == "add-podman":
            from dockdrift.db.podman_tables import add_podman

            written = [add_podman(args.routes, args.out)]
        else:
            written = [tables.add_spec(args.spec, args.routes, args.out)]
    except FileNotFoundError as exc:
        raise UsageError(f"{exc.filename}: no such file; check the path") from None
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(path)
    return 0
