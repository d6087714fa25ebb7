"""Which daemon a capture records, chosen the way the docker CLI chooses it.

Precedence (the docker CLI's, with `--upstream` in the place of `--host`):

1. `--upstream URL` (and `--context NAME` with it is an error, as `--host` with `--context`)
2. `--context NAME`
3. `DOCKER_HOST` (it beats `DOCKER_CONTEXT`, as in the docker CLI)
4. `DOCKER_CONTEXT`, then `currentContext` in $DOCKER_CONFIG/config.json
5. the `default` context: unix:///var/run/docker.sock

A URL is `unix:///path`, `tcp://HOST[:PORT]` (TLS with `--tls`/`--tls-verify` or the
DOCKER_TLS/DOCKER_TLS_VERIFY environment; default port 2376 with TLS, else 2375) or
`ssh://[user@]host[:port]`. A context carries its own endpoint and TLS material.

    tls.py      TLS towards the daemon (files, pre-flight, the client certificate for mitmproxy)
    ssh.py      ssh:// through `docker system dial-stdio`, one ssh process per connection
    context.py  the docker CLI's context store
    listen.py   TLS towards the clients (--listen-tls), client certificates required
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockdrift.errors import UsageError

if TYPE_CHECKING:  # context, ssh and tls import asyncio and ssl: only when a capture starts
    from dockdrift.upstream import ssh
    from dockdrift.upstream.tls import TlsFiles

DEFAULT_UPSTREAM = "unix:///var/run/docker.sock"
DOCKER_TCP_PORT = 2375


@dataclass(frozen=True)
class Upstream:
    text: str  # the URL as given (or read from the context)
    source: str  # --upstream, DOCKER_HOST, context 'prod' (DOCKER_CONTEXT), default upstream
    tls: TlsFiles | None = None
    ssh: ssh.SshTarget | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("remote daemons (as the docker CLI reads them)")
    g.add_argument("--context", metavar="NAME",
                   help="record what `docker --context NAME` talks to (endpoint and TLS from "
                        "the docker CLI's context store); default: the current context, "
                        "unless --upstream or DOCKER_HOST is given")
    g.add_argument("--tls", action="store_true", default=None,
                   help="TLS to a tcp:// upstream without verifying the daemon (default "
                        "$DOCKER_TLS)")
    g.add_argument("--tls-verify", action="store_true", default=None,
                   help="TLS to a tcp:// upstream, verifying its certificate and host name "
                        "against ca.pem (default $DOCKER_TLS_VERIFY)")
    g.add_argument("--cert-path", metavar="DIR",
                   help="ca.pem, cert.pem, key.pem for the upstream (default "
                        "$DOCKER_CERT_PATH, else $DOCKER_CONFIG or ~/.docker)")
    g.add_argument("--listen-tls", action="store_true",
                   help="serve clients over TLS and require client certificates signed by "
                        "--listen-ca (for clients with DOCKER_TLS_VERIFY=1)")
    g.add_argument("--listen-cert", metavar="PEM", help="the recorder's server certificate")
    g.add_argument("--listen-key", metavar="PEM", help="its private key")
    g.add_argument("--listen-ca", metavar="PEM", help="the CA that signs client certificates")


def resolve(args: argparse.Namespace, environ: dict[str, str]) -> Upstream:
    """Flags + environment + context store -> the upstream (UsageError says what to do)."""
    from dockdrift.upstream import context

    explicit_tls = bool(args.tls or args.tls_verify or args.cert_path)
    if args.upstream and args.context:
        raise UsageError("conflicting options: give either --upstream or --context, not both "
                         "(like docker's --host and --context)")
    name, where = "", ""
    if args.upstream:
        text, source = args.upstream, "--upstream"
    elif args.context:
        name, where = args.context, "--context"
    elif environ.get("DOCKER_HOST"):
        text, source = environ["DOCKER_HOST"], "DOCKER_HOST"
    else:
        name, where = context.current(environ)
    if name and name != context.DEFAULT:
        if explicit_tls:
            raise UsageError(f"context {name!r} carries its own TLS settings: drop --tls, "
                             "--tls-verify and --cert-path, or give --upstream instead")
        ctx = context.load(name, environ, where)
        source = f"context {name!r} ({where})"
        return _with(Upstream(ctx.host, source, ctx.tls), ctx.host)
    if name:  # the default context
        text, source = environ.get("DOCKER_HOST") or DEFAULT_UPSTREAM, "default upstream"
    return _with(Upstream(text, source, _tls_from(args, environ, text, explicit_tls)), text)


def _tls_from(args: argparse.Namespace, environ: dict[str, str], text: str,
              explicit: bool) -> TlsFiles | None:
    from dockdrift.upstream.tls import config_dir, from_cert_path

    verify = bool(args.tls_verify or environ.get("DOCKER_TLS_VERIFY"))
    wanted = verify or bool(args.tls or environ.get("DOCKER_TLS"))
    if not text.startswith("tcp://") and "://" in text:
        if explicit:
            raise UsageError(f"--tls/--tls-verify/--cert-path apply to tcp:// upstreams only, "
                             f"not {text}")
        return None  # like the docker CLI, the TLS environment does not apply there
    if not wanted:
        if args.cert_path:
            raise UsageError("--cert-path without --tls-verify (or --tls) does nothing: add "
                             "--tls-verify")
        return None
    if args.cert_path:
        cert_path, source = args.cert_path, "--cert-path"
    elif environ.get("DOCKER_CERT_PATH"):
        cert_path, source = environ["DOCKER_CERT_PATH"], "DOCKER_CERT_PATH"
    else:
        cert_path, source = config_dir(environ), "the default cert path"
    return from_cert_path(cert_path, verify, source)


def _with(up: Upstream, text: str) -> Upstream:
    from dockdrift.upstream import ssh

    if text.startswith("ssh://"):
        return Upstream(text, up.source, None, ssh.parse(text, up.source))
    return up


def default_port(up: Upstream) -> int:
    from dockdrift.upstream.tls import DOCKER_TLS_PORT

    return DOCKER_TLS_PORT if up.tls is not None else DOCKER_TCP_PORT


def preflight(up: Upstream, endpoint: Any) -> str | None:
    """Check the remote daemon once: UsageError for what cannot work, else a warning or None."""
    from dockdrift.upstream import ssh, tls

    if up.ssh is not None:
        ssh.preflight(up.ssh)
        return None
    if up.tls is not None:
        return tls.preflight(endpoint.host, endpoint.port, up.tls)
    return "plain"


def client_lines(url: str, environ: dict[str, str], listen_tls: bool) -> list[str]:
    """The shell lines that point a client at the capture (stdout, export line first)."""
    lines = [f"export DOCKER_HOST={url}"]
    if not listen_tls:
        lines += [f"unset {v}" for v in ("DOCKER_TLS_VERIFY", "DOCKER_TLS") if environ.get(v)]
    if environ.get("DOCKER_CONTEXT"):
        lines.append("unset DOCKER_CONTEXT")
    return lines


__all__ = ["DEFAULT_UPSTREAM", "Upstream", "add_arguments", "client_lines", "default_port",
           "preflight", "resolve"]
