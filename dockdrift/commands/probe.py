"""Send a fixed, versioned set of requests (cases) to a Docker API and record the answers.

Each case sets up what it needs (objects named ddprobe-<random>-…), sends its request through
an in-process recorder (the code of `dockdrift capture`) and the answer is stored in --db with
`probe_case` set. Everything the run made is removed afterwards, also on Ctrl-C or SIGTERM
(a second signal aborts the cleanup). Nothing is pulled or pushed off this machine: registries
are a closed loopback port. Exit codes: 0 done, 1 the cleanup left objects behind or rows were
not stored, 2 usage or input error, 130 interrupted (after cleanup).
"""

from __future__ import annotations

import argparse
import sys

from dockdrift.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", metavar="URL",
                        help="the implementation: tcp://HOST:PORT or unix:///path (required)")
    parser.add_argument("--db", metavar="PATH_OR_URL", default="dockdrift.sqlite",
                        help="where to record (default ./dockdrift.sqlite)")
    parser.add_argument("--image", default="busybox:local",
                        help="a local image the cases run (default busybox:local; never pulled)")
    parser.add_argument("--case", metavar="NAME", nargs="+", action="extend", default=[],
                        help="run only these cases (see --list)")
    parser.add_argument("--api-version", metavar="X.Y", action="append", dest="api_versions",
                        help="send the version-sensitive cases again at /vX.Y, named "
                             "CASE@X.Y (repeatable; default 1.24 1.41 1.44; `none`: only at "
                             "the daemon's own version)")
    parser.add_argument("--list", action="store_true",
                        help="print the case table and exit")


def list_text() -> str:
    from dockdrift.probe.cases import API_VERSIONS, AT_VERSIONS, CASES, PROBE_VERSION

    width = max(len(c.name) for c in CASES)
    rows = [f"# dockdrift probe cases, version {PROBE_VERSION} ({len(CASES)} cases); expect: the "
            "documented code, (400) one no table documents, n/a no such Engine route; @: "
            f"sent again as CASE@X.Y at each --api-version (default {' '.join(API_VERSIONS)})",
            f"{'case':<{width}}    expect request"]
    for c in CASES:
        version = f" (at /v{c.version})" if c.version else ""
        note = f"  # {c.note}" if c.note else ""
        mark = "@" if c.name in AT_VERSIONS else " "
        rows.append(f"{c.name:<{width}} {mark} {c.expect:<6} {c.method} {c.route}{version}{note}")
    return "\n".join(rows) + "\n"


def api_versions(values: list[str] | None) -> list[str] | None:
    """--api-version values -> the run's versions (None: the default); UsageError if bad."""
    from dockdrift.probe.cases import check_version

    if values is None:
        return None
    if values == ["none"]:
        return []
    try:
        return list(dict.fromkeys(check_version(v) for v in values))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from dockdrift.capture import parse_endpoint, upstream_warning
    from dockdrift.probe.cases import select

    if args.list:
        sys.stdout.write(list_text())
        return 0
    if not args.upstream:
        raise UsageError("--upstream is required: the implementation to probe, e.g. "
                         "--upstream tcp://127.0.0.1:2375")
    versions = api_versions(args.api_versions)
    try:
        cases = select(args.case, versions)
    except KeyError as exc:
        raise UsageError(f"unknown case {exc.args[0]!r}: see dockdrift probe --list") from None
    upstream = parse_endpoint(args.upstream, "--upstream", 2375)
    if warning := upstream_warning(upstream):
        reason = warning.split("(", 1)[1].split(")", 1)[0] if "(" in warning else warning
        raise UsageError(f"upstream {upstream.url()} is not reachable ({reason}): start the "
                         "daemon or fix --upstream")
    return report(execute(upstream, args.db, cases, args.image), args.db)


def execute(upstream, db: str, cases: list, image: str):
    from dockdrift.probe.runner import print_progress, probe

    return probe(upstream, db, cases, image, print_progress(max(len(c.name) for c in cases)))


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def report(run, db: str) -> int:
    """The summary on stderr; the exit code."""
    err = sys.stderr
    failed = [o for o in run.outcomes if o.setup_error]
    no_answer = [o for o in run.outcomes if o.response.status is None]
    version = run.server.get("Version", "?")
    own = [o for o in run.outcomes if o.case.api is None]
    at = sorted({o.case.api for o in run.outcomes if o.case.api}, key=_key)
    more = (f" and {len(run.outcomes) - len(own)} at API {', '.join(at)}" if at else "")
    print(f"dockdrift probe: {len(own)} cases run against {version} (API "
          f"{run.server.get('ApiVersion', '?')}, minimum {run.server.get('MinAPIVersion', '?')})"
          f"{more} in {run.seconds:.1f} s; {len(failed)} failed "
          f"setups, {len(no_answer)} without an answer; {run.stored} exchanges recorded in {db}",
          file=err)
    for o in failed:
        print(f"  setup failed: {o.case.name}: {o.setup_error}", file=err)
    if run.sweep is not None:
        removed = ", ".join(f"{n} {k}" for k, n in run.sweep.removed.items())
        print(f"dockdrift probe: cleanup of {run.prefix}-*: removed {removed}", file=err)
        for left in run.sweep.left:
            print(f"dockdrift probe: LEFT BEHIND: {left}", file=err)
    if run.aborted:
        print(f"dockdrift probe: cleanup aborted: objects named {run.prefix}-* may be left",
              file=err)
    if run.lost:
        print(f"dockdrift probe: {run.lost} exchanges could NOT be stored", file=err)
    if run.interrupted or run.aborted:
        print("dockdrift probe: interrupted", file=err)
        return EXIT_INTERRUPTED
    return EXIT_FINDINGS if run.lost or (run.sweep is not None and run.sweep.left) else 0
