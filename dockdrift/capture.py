"""What a capture is: its endpoints and its checked configuration (flags + environment).

The `capture` command (dockdrift.commands.capture) resolves a CaptureConfig here and runs it
with dockdrift.capture_server; `probe` and `allowlist` parse endpoints with the same rules.
"""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockdrift.endpoint import (  # noqa: F401 - Endpoint, parse_endpoint: their old home
    Endpoint,
    _bracket,
    _is_loopback,
    _is_unspecified,
    parse_endpoint,
    same_place,
)
from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from dockdrift.upstream.listen import ListenTlsFiles
    from dockdrift.upstream.ssh import SshTarget
    from dockdrift.upstream.tls import TlsFiles

DEFAULT_UPSTREAM = "unix:///var/run/docker.sock"
DEFAULT_LISTEN = "127.0.0.1:2376"
DOCKER_TCP_PORT = 2375


@dataclass
class CaptureConfig:
    upstream: Endpoint
    listen: Endpoint
    db: str
    target: str = "auto"
    allow_remote: bool = False
    recorder: str = ""
    status: bool = False  # live count on stderr
    tls: TlsFiles | None = None  # TLS towards the daemon (dockdrift.upstream.tls)
    ssh: SshTarget | None = None  # the daemon over ssh (then `upstream` is unused)
    listen_tls: ListenTlsFiles | None = None  # TLS towards the clients
    upstream_source: str = "--upstream"

    @property
    def upstream_url(self) -> str:
        return self.ssh.url() if self.ssh is not None else self.upstream.url()

    enforce: str = ""  # allowlist JSON; "" records everything
    dry_run: bool = False  # with enforce: only record what would be denied


def resolve(args: argparse.Namespace, environ: dict[str, str]) -> CaptureConfig:
    """Arguments + environment -> a checked config (raises UsageError with what to do)."""
    from dockdrift import upstream as remote
    from dockdrift.upstream import listen as listen_tls

    listen = parse_endpoint(args.listen, "--listen", None)
    up = remote.resolve(args, environ)
    source, text = up.source, up.text
    if up.ssh is not None:
        upstream = Endpoint("ssh", host=up.ssh.host, port=up.ssh.port or 22)
    else:
        upstream = parse_endpoint(text, source if source.startswith("-") else "--upstream",
                                  remote.default_port(up))
    if up.tls is not None and upstream.kind != "tcp":
        raise UsageError(f"TLS ({up.tls.source}) needs a tcp:// upstream, not {text}")
    if same_place(upstream, listen):
        raise UsageError(f"{source} {text} points at this capture's own listen address "
                         f"{listen.url()} (a loop): give --upstream the real daemon, e.g. "
                         f"--upstream {DEFAULT_UPSTREAM}")
    if not listen.loopback and not args.allow_remote:
        raise UsageError(f"refusing to listen on {listen.url()}: it is not a loopback address and "
                         "would expose the Docker API (root on this host) to the network; "
                         "pass --allow-remote if you really mean it")
    enforce = getattr(args, "enforce", None) or ""
    dry_run = bool(getattr(args, "dry_run", False))
    if dry_run and not enforce:
        raise UsageError("--dry-run needs --enforce ALLOWLIST.json (what would be denied)")
    if enforce:
        from dockdrift.db.allowlist import AllowlistError, load

        try:
            load(enforce)  # checked before anything listens; the recorder loads it again
        except AllowlistError as exc:
            raise UsageError(f"--enforce: {exc}") from None
        enforce = os.path.abspath(enforce)
    return CaptureConfig(upstream, listen, args.db, args.target, args.allow_remote,
                         recorder=getattr(args, "recorder", "") or "", tls=up.tls, ssh=up.ssh,
                         listen_tls=listen_tls.from_args(args), upstream_source=source,
                         enforce=enforce, dry_run=dry_run)


def client_url(listen: Endpoint, bound: tuple[str, int] | None) -> str:
    """What DOCKER_HOST a local client should use (loopback for a wildcard listener)."""
    if listen.kind == "unix" or bound is None:
        return listen.url()
    host = listen.host
    if _is_unspecified(host):
        host = "::1" if ":" in host else "127.0.0.1"
    return Endpoint("tcp", host=host, port=bound[1]).url()


def check_listen(listen: Endpoint) -> None:
    """Bind once to turn 'address in use' into one clear line before mitmproxy starts."""
    if listen.kind == "unix":
        return  # dockdrift.bridge.bind_unix reports it
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((listen.host, listen.port))
        except socket.gaierror:
            raise UsageError(f"cannot listen on {listen.url()}: unknown host") from None
        except OSError as exc:
            raise UsageError(listen_error(listen, exc)) from None


def listen_error(listen: Endpoint, exc: OSError) -> str:
    import errno

    where = listen.path if listen.kind == "unix" else f"{_bracket(listen.host)}:{listen.port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"{where} is in use: choose another --listen "
                f"{'path' if listen.kind == 'unix' else 'port'} or stop the other process")
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {where}: choose another --listen address"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def upstream_warning(upstream: Endpoint) -> str | None:
    """A one-line warning when the upstream is not reachable now (we start anyway)."""
    family = socket.AF_UNIX if upstream.kind == "unix" else (
        socket.AF_INET6 if ":" in upstream.host else socket.AF_INET)
    address: Any = upstream.path if upstream.kind == "unix" else (upstream.host, upstream.port)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(address)
        return None
    except PermissionError:
        hint = "run as a member of the docker group or with sudo"
    except FileNotFoundError:
        hint = "is dockerd running? is the path right?"
    except OSError as exc:
        hint = f"{exc.strerror or exc}"
    return (f"warning: upstream {upstream.url()} is not reachable now ({hint}); starting anyway: "
            "requests fail and are recorded with status NULL and an error until it is back")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from dockdrift import upstream as remote

    parser.add_argument("--upstream", metavar="URL",
                        help="the daemon: unix:///path, tcp://HOST[:PORT] (TLS with "
                             "--tls-verify) or ssh://[user@]host[:port]; default $DOCKER_HOST, "
                             f"else the current docker context, else {DEFAULT_UPSTREAM}")
    parser.add_argument("--listen", metavar="ADDR", default=DEFAULT_LISTEN,
                        help="where clients connect: HOST:PORT (loopback only unless "
                             "--allow-remote; port 0 picks a free one) or unix:///path "
                             f"(created 0600); default {DEFAULT_LISTEN}")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --listen address (exposes root on this host)")
    parser.add_argument("--db", metavar="PATH_OR_URL", default="dockdrift.sqlite",
                        help="where to record: a SQLite path or a SQLAlchemy URL "
                             "(default ./dockdrift.sqlite)")
    parser.add_argument("--target", choices=("auto", "engine", "swarm", "podman"),
                        default="auto",
                        help="the upstream kind stored with each exchange (default: detect)")
    parser.add_argument("--enforce", metavar="ALLOWLIST.json",
                        help="refuse (403, never sent to the daemon, recorded as denied) every "
                             "request outside this allowlist (dockdrift allowlist --format "
                             "json); SIGHUP reloads it")
    parser.add_argument("--dry-run", action="store_true",
                        help="with --enforce: let everything through, record what would be "
                             "denied")
    parser.add_argument("--recorder", metavar="NAME", default="",
                        help="this recorder's name, stored with each exchange (default: the "
                             "host name)")
    remote.add_arguments(parser)
