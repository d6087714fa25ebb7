"""The allowlist as a complete HAProxy configuration (tested with Debian 12's HAProxy 2.6).

Frontend on a unix socket (mode 0660) or a loopback port, backend on the Docker socket; one
anchored `path_reg` ACL per route (the raw path: no query string, and the regexes refuse '%',
see db.allowlist), matched together with the exact method, in the router's order, first
match wins; everything else gets a 403 with a Docker-style JSON body.
"""

from __future__ import annotations

from dockdrift.db import allowlist
from dockdrift.allowlist.core import Observed, RouteUse
from dockdrift.allowlist.render import (HAPROXY_UPGRADE_WITH_BODY, Source, _excluded, _summary,
                                        _ts, exec_start_allowed)
from dockdrift.endpoint import Endpoint
from dockdrift.db.version import package_version

# Measured against dockerd 20.10 (tests/test_allowlist_e2e.py): HAProxy's default keep-alive
# mode serves the CLI; `timeout tunnel` governs hijacked attach/exec after 101 UPGRADED;
# `timeout server`/`client` govern quiet streams (docker events, logs -f), so they are long.
DEFAULTS = """\
defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout http-request 30s     # a request head must arrive in 30s
    timeout http-keep-alive 30s  # idle keep-alive connection between requests
    timeout client 1h            # quiet clients: docker events, logs -f, wait
    timeout server 1h            # quiet daemon: a stream with no output for 1h ends
    timeout tunnel 1h            # hijacked connections (attach, run, exec) after 101
    timeout client-fin 1h        # after the CLI half-closes stdin, output still flows
    timeout server-fin 1h
"""
# A refused request's body is read (up to 1 s) before the 403: denied at its head while the
# CLI was still writing a body, the CLI saw "write: broken pipe" instead of the message.
# Only refused requests reach this rule; allowed ones never wait.
WAIT_FOR_BODY = "http-request wait-for-body time 1s"
# lf-string: a JSON body like the daemon's own errors; json(utf8s) escapes the path.
DENY = ('http-request deny deny_status 403 content-type application/json lf-string '
        '"{\\"message\\":\\"dockdrift allowlist: %[method] %[path,json(utf8s)] is not '
        'allowed\\"}"')


def bind_line(listen: Endpoint) -> str:
    if listen.kind == "unix":
        return f"bind unix@{listen.path} mode 660  # add 'group docker' to share it"
    host = f"[{listen.host}]" if ":" in listen.host else listen.host
    return f"bind {host}:{listen.port}"


def server_line(upstream: Endpoint) -> str:
    if upstream.kind == "unix":
        return f"server docker unix@{upstream.path}"
    host = f"[{upstream.host}]" if ":" in upstream.host else upstream.host
    return f"server docker {host}:{upstream.port}"


def _header(obs: Observed, src: Source) -> list[str]:
    lines = [f"# Docker API allowlist for HAProxy, from dockdrift {package_version()} "
             f"({_ts(src.generated)} UTC).",
             f"# {_summary(obs, src)}.",
             f"# {_excluded(obs)}.",
             "# Everything not allowed below is refused with 403. Paths that contain '%' are",
             "# never allowed: the daemon decodes the path before it routes, HAProxy matches it",
             "# raw. Check with: haproxy -c -f FILE; run with: haproxy -f FILE"]
    if exec_start_allowed(obs):
        lines += [f"# NOTE: {HAPROXY_UPGRADE_WITH_BODY}: it drops the upgrade of a request",
                  "# with a body (haproxy issue 2684), the CLI then fails with 'unable to",
                  "# upgrade to tcp, received 200'. Use HAProxy >= 3.1, socket-proxy, or",
                  "# dockdrift capture --enforce for clients that exec."]
    return lines


def _comment(u: RouteUse | None, rule: allowlist.Rule) -> str:
    if u is None:
        return f"# {rule.method} {rule.route}: refused, and tried before {rule.shadows}"
    return (f"# {u.method} {u.route} ({u.handler or 'no handler'}): seen {u.count}x, "
            f"last {_ts(u.last_seen)}")


def to_haproxy(obs: Observed, src: Source, listen: Endpoint, upstream: Endpoint) -> str:
    uses = {(u.method, u.route): u for u in obs.routes}
    rules = allowlist.rules(list(uses))
    front = ["frontend docker_allowlist", f"    {bind_line(listen)}",
             "    # one ACL per route: its anchored path regex; the method is matched with it"]
    for i, rule in enumerate(rules, 1):
        name = f"{'allow' if rule.allow else 'refuse'}_{i}"
        front += [f"    {_comment(uses.get((rule.method, rule.route)), rule)}",
                  f"    acl {name} path_reg {rule.regex}",
                  f"    http-request {'allow' if rule.allow else 'deny deny_status 403'} "
                  f"if {{ method {rule.method} }} {name}"]
    front += ["    # everything else", f"    {WAIT_FOR_BODY}", f"    {DENY}",
              "    default_backend docker"]
    parts = ["\n".join(_header(obs, src)),
             "global\n    maxconn 1024\n    log stderr format short local0 info",
             DEFAULTS.rstrip("\n"), "\n".join(front),
             f"backend docker\n    {server_line(upstream)}"]
    return "\n\n".join(parts) + "\n"
