"""Record live Docker API traffic: mitmproxy in-process with the recorder addon.

Point your docker CLI at the printed `export DOCKER_HOST=...` line; every exchange is stored
in --db. A unix upstream (Docker's default /var/run/docker.sock) or a unix --listen socket is
bridged in-process (mitmproxy can do neither). Stops cleanly on Ctrl-C or SIGTERM with every
recorded exchange committed: exit 0. Exit 1: some exchanges could not be stored; 2: usage error.
"""

from __future__ import annotations

import argparse
import os

from dockdrift.capture import (  # noqa: F401 - add_arguments: the command's flags live there
    CaptureConfig,
    add_arguments,
    check_listen,
    resolve,
    upstream_warning,
)


def remote_warning(cfg: CaptureConfig) -> str | None:
    """Check the daemon before starting: ssh and TLS problems are usage errors (exit 2)."""
    from dockdrift import upstream as remote

    up = remote.Upstream(cfg.upstream_url, cfg.upstream_source, cfg.tls, cfg.ssh)
    found = remote.preflight(up, cfg.upstream)
    return upstream_warning(cfg.upstream) if found == "plain" else found


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from dockdrift.capture_server import serve

    cfg = resolve(args, dict(os.environ))
    cfg.status = sys.stderr.isatty()
    check_listen(cfg.listen)
    if cfg.allow_remote and not cfg.listen.loopback:
        print(f"dockdrift capture: WARNING: listening on {cfg.listen.url()} exposes the Docker "
              "API, which is root on this host, to anyone who can reach it", file=sys.stderr)
    if warning := remote_warning(cfg):
        print(f"dockdrift capture: {warning}", file=sys.stderr)
    return asyncio.run(serve(cfg))
