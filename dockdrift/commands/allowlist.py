"""Turn what was recorded into a Docker socket allowlist: the (method, route) pairs clients used.

  dockdrift allowlist --db capture.sqlite --since 7d --user-agent '^Traefik' --format haproxy -o haproxy.cfg
  dockdrift allowlist --db capture.sqlite --format json -o allowlist.json   # for capture --enforce
  dockdrift allowlist --db capture.sqlite --format socket-proxy             # wollomatic/socket-proxy flags

Unknown routes, denied requests and percent-encoded paths are never allowed.
Exit codes: 0 written, 2 usage or input error, 3 the filters leave nothing to allow (an empty
allowlist refuses everything: pass --allow-empty to write it anyway).
"""

from __future__ import annotations

import argparse
import sys

from dockdrift.db.basics import DEFAULT_DB
from dockdrift.commands.options import add_allow_empty, add_filter_arguments, add_output_arguments
from dockdrift.errors import UsageError

FORMATS = ("text", "json", "haproxy", "socket-proxy")
DEFAULT_LISTEN = "unix:///run/docker-allowlist.sock"
DEFAULT_UPSTREAM = "unix:///var/run/docker.sock"
EXIT_EMPTY = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB, help="capture (SQLite path or SQLAlchemy URL)")
    add_filter_arguments(p, by=False)  # --recorder and --client are repeatable here too now
    p.add_argument("--per-client", action="store_true",
                   help="json: rules per client family (each route lists the families that "
                        "used it; capture --enforce then allows a family only its own routes)")
    add_output_arguments(p, FORMATS)
    p.add_argument("--listen", metavar="ADDR", default=DEFAULT_LISTEN,
                   help="haproxy/socket-proxy: where clients connect, unix:///path (mode 0660) "
                        f"or tcp://HOST:PORT (default {DEFAULT_LISTEN})")
    p.add_argument("--upstream", metavar="ADDR", default=DEFAULT_UPSTREAM,
                   help=f"haproxy/socket-proxy: the daemon (default {DEFAULT_UPSTREAM})")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --listen address (exposes the allowed routes)")
    add_allow_empty(p)  # here: write an allowlist that refuses everything


def _endpoints(args: argparse.Namespace):
    from dockdrift.capture import parse_endpoint

    listen = parse_endpoint(args.listen, "--listen", None)
    upstream = parse_endpoint(args.upstream, "--upstream", 2375)
    if not listen.loopback and not args.allow_remote:
        raise UsageError(f"refusing to generate a proxy listening on {listen.url()}: it is not "
                         "a loopback address; pass --allow-remote if you really mean it")
    return listen, upstream


def _selection(args: argparse.Namespace):
    from dockdrift.commands.options import filter_from_args

    return filter_from_args(args)


def _safe_db_name(db: str) -> str:
    """The --db as shown in a generated file: never a password from a URL."""
    if "://" not in db:
        return db
    from sqlalchemy.engine import make_url

    return make_url(db).render_as_string(hide_password=True)


def run(args: argparse.Namespace) -> int:
    from dockdrift.db.engine import open_existing
    from dockdrift.render.base import write_output
    from dockdrift.allowlist import core, haproxy, render

    listen, upstream = _endpoints(args)
    if args.per_client and args.format != "json":
        raise UsageError("--per-client rules are enforced by capture --enforce only: use "
                         "--format json (or --client NAME for one client's allowlist)")
    sel = _selection(args)
    engine = open_existing(args.db)
    try:
        obs = core.observe(engine, sel)
    finally:
        engine.dispose()
    if not obs.routes and not args.allow_empty:
        what = ("the filters match no exchanges" if not obs.exchanges else
                f"none of the {obs.exchanges} exchanges the filters match is on a known, "
                "undenied route")
        print(f"dockdrift allowlist: {what}; an empty allowlist refuses everything: widen "
              "the filters, or pass --allow-empty", file=sys.stderr)
        return EXIT_EMPTY
    src = render.Source.now(_safe_db_name(args.db), sel)
    if args.format == "haproxy":
        text = haproxy.to_haproxy(obs, src, listen, upstream)
        if render.exec_start_allowed(obs):
            print(f"dockdrift allowlist: note: {render.HAPROXY_UPGRADE_WITH_BODY} "
                  "(haproxy issue 2684; see the note in the configuration)", file=sys.stderr)
    elif args.format == "socket-proxy":
        text = render.to_socket_proxy(obs, src, listen, upstream)
    elif args.format == "json":
        text = render.to_json(obs, src, args.per_client)
    else:
        text = render.to_text(obs, src)
    write_output(text, args.output)
    return 0
