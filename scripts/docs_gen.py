"""Write the parts of the docs that come from code, so they cannot drift from it.

    python scripts/docs_gen.py          # rewrite every generated block (make docs-gen)
    python scripts/docs_gen.py --check  # exit 1 naming each stale file (tests/test_docs.py)

A generated block sits between `<!-- BEGIN GENERATED: NAME -->` and `<!-- END GENERATED: NAME -->`
in any Markdown file under docs/ (and README.md); the text around it is written by hand, as with
cog. The blocks: `cli` (every command of dockdrift.cli.COMMANDS and its `--help`), `exchanges`
and `tables` (db/models.py), `probe-cases` (dockdrift/probe/cases.py), `mitmdump-options`
(the addon's own `loader.add_option` calls), `commands` (the command list).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                   r"(<!-- END GENERATED: (?P=name) -->)", re.S)
HELP_WIDTH = "100"  # argparse reads COLUMNS: the page must not depend on the terminal

# What each column of `exchanges` means. The names, types and order come from db/models.py;
# a column missing here is rendered with "(not described yet)" and fails tests/test_docs.py.
EXCHANGE_COLUMNS: dict[str, str] = {
    "id": "row id in this store",
    "started_at": "when the request started, UTC (naive)",
    "method": "`GET`, `POST`, `HEAD`, … as sent",
    "path": "the raw request path without the query string, exactly as sent (bytes that are "
            "not UTF-8 are written `\\xNN`)",
    "query": "the raw query string; values of secret-looking parameters (`buildargs`, `*auth*`, "
             "`*pass*`, `*token*`, `*secret*`, `*cred*`) replaced by `REDACTED`",
    "api_version": "from the `/v1.41/` prefix; NULL when the client sent none",
    "route": "the gorilla/mux route template, e.g. `/containers/{name:.*}/start`; NULL when no "
             "table knows the request",
    "handler": "the handler name, e.g. `postContainersStart`",
    "route_source": "which table tagged it: `seed-v1.22` first, then the Engine specs newest "
                    "first, then Podman's",
    "status_code": "taken when the response headers arrive (streams and hijacks are recorded as "
                   "they start); **NULL when the exchange failed on the proxy's side**",
    "error": "the proxy-side failure (upstream unreachable, timeout, client gone); a 502 made by "
             "mitmproxy is not a Docker 502. Dry runs of `--enforce` start `dry run: would be "
             "denied`",
    "error_message": "the server's own error text of a 4xx/5xx answer, at most 200 characters, "
                     "`KEY=value` pairs redacted, none for credential-carrying routes",
    "duration_ms": "request start to response end (to the 101 for hijacks)",
    "request_bytes": "request body bytes relayed (for hijacks: up to the upgrade)",
    "response_bytes": "response body bytes relayed (for hijacks: up to the upgrade)",
    "hijacked": "the connection was upgraded (`101`): attach, exec start, BuildKit session",
    "user_agent": "the client's `User-Agent` (e.g. `Docker-Client/28.2.2 (linux)`)",
    "server": "the upstream's identity: the `Server` header, or what `/version` said",
    "target": "`engine`, `swarm` or `podman`",
    "client": "the client's address",
    "target_version": "the implementation's own version as it reports it: `20.10.24+dfsg1`, "
                      "`4.3.1`, `1.2.9` for `swarm/1.2.9`. An *implementation* is (`target`, "
                      "`target_version`), written `podman 4.3.1`",
    "probe_case": "the `dockdrift probe` case that made the request (`…#setup` for its setup "
                  "requests); NULL for passive traffic",
    "stream_error": "the first error reported inside a 2xx stream (build, pull, load, …) or by "
                    "`/wait`, capped and redacted like `error_message`",
    "stream_error_count": "how many errors that stream carried (0: scanned, clean; NULL: not a "
                          "scanned route)",
    "exit_code": "the exit status a client is told: `StatusCode` of `POST "
                 "/containers/{id}/wait`, `ExitCode` of a finished exec",
    "recorder": "which recorder saw it (`dockdrift_recorder`, `capture --recorder`; default the "
                "host name)",
    "denied": "refused by an allowlist (`--enforce`), never sent to the daemon",
    "uid": "a stable identity across copies (`dockdrift import`); NULL for rows recorded here, "
           "whose identity is `<store_id>:<id>`",
    "min_api_version": "the upstream's API floor (`MinAPIVersion` of `/version`): the same "
                       "Engine with `DOCKER_MIN_API_VERSION=1.44` is another implementation",
    "request_shape": "key into `shapes`: the request body's field paths and JSON types, never "
                     "values",
    "response_shape": "key into `shapes`: the response body's field paths and JSON types",
    "client_name": "the client family read from the `User-Agent` (`docker-cli`, `docker-py`, …)",
    "client_version": "that client's version (`28.2.2`)",
    "peer_pid": "the process behind the connection, where the kernel tells it (unix socket "
                "`SO_PEERCRED`, loopback TCP through `/proc`)",
    "peer_uid": "that process's user id",
    "peer_process": "its command name (`comm`, e.g. `docker`)",
    "peer_exe": "its executable (`/proc/PID/exe`, e.g. `/usr/bin/docker`)",
}


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _parsers() -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(command line, summary, parser) for every command and sub-command, in COMMANDS order."""
    from dockdrift.cli import COMMANDS, build_parser

    for name, (_, summary) in COMMANDS.items():
        top = build_parser([name])
        sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
        yield from _walk(f"dockdrift {name}", summary, sub.choices[name])


def _walk(line: str, summary: str, parser: argparse.ArgumentParser):
    yield line, summary, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                yield from _walk(f"{line} {name}", helps.get(name) or "", child)


def _help(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        text = parser.format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return text.rstrip() + "\n"


def _anchor(line: str) -> str:
    return line.replace(" ", "-")


def gen_commands() -> str:
    rows = [[f"[`{line}`](cli.md#{_anchor(line)})", summary]
            for line, summary, _ in _parsers() if line.count(" ") == 1]
    return _table(["command", "what it does"], rows)


def gen_cli() -> str:
    out = []
    for line, summary, parser in _parsers():
        level = "##" if line.count(" ") == 1 else "###"
        out.append(f"{level} `{line}` {{#{_anchor(line)}}}\n\n{summary}\n\n```text\n"
                   f"{_help(parser)}```\n")
    return "\n".join(out)


def option_strings() -> dict[str, list[str]]:
    """Every command line and the option strings its parser accepts (for the tests)."""
    return {line: [s for a in parser._actions for s in a.option_strings]
            for line, _, parser in _parsers()}


def _models():
    from dockdrift.db import models

    return models


def _type(column) -> str:
    name = type(column.type).__name__
    length = getattr(column.type, "length", None)
    return f"{name}({length})" if length else name


def _where(index) -> str:
    where = index.dialect_options["sqlite"].get("where")
    return "" if where is None else f"`{where}`"


def gen_exchanges() -> str:
    models = _models()
    rows = []
    for column in models.Exchange.__table__.columns:
        meaning = EXCHANGE_COLUMNS.get(column.name, "(not described yet)")
        null = "yes" if column.nullable and not column.primary_key else "no"
        rows.append([f"`{column.name}`", _type(column), null, meaning])
    out = _table(["column", "type", "null", "meaning"], rows)
    indexes = sorted(models.Exchange.__table__.indexes, key=lambda i: i.name)
    out += "\nIndexes (partial ones on SQLite and PostgreSQL only):\n\n" + _table(
        ["index", "columns", "where"],
        [[f"`{i.name}`", ", ".join(c.name for c in i.columns),
          _where(i)] for i in indexes])
    return out + f"\nStore schema version: **{models.SCHEMA_VERSION}**.\n"


def gen_tables() -> str:
    models = _models()
    out = []
    for table in models.Base.metadata.sorted_tables:
        if table.name == "exchanges":
            continue
        mapper = next((m for m in models.Base.registry.mappers if m.local_table is table), None)
        doc = " ".join((mapper.class_.__doc__ or "").split()) if mapper else ""
        cols = ", ".join(f"`{c.name}` {_type(c)}" for c in table.columns)
        out.append(f"`{table.name}`\n:   {doc}\n\n    Columns: {cols}.\n")
    return "\n".join(out)


def gen_probe_cases() -> str:
    from dockdrift.probe.cases import CASES, PROBE_VERSION

    rows = [[f"`{c.name}`", c.expect, f"`{c.method} {c.route}`",
             f"/v{c.version}" if c.version else ("none" if c.version == "" else ""), c.note]
            for c in CASES]
    return (f"Probe version **{PROBE_VERSION}**, {len(CASES)} cases.\n\n"
            + _table(["case", "expect", "request", "API prefix", "note"], rows))


def gen_mitmdump_options() -> str:
    from mitmproxy.test import taddons

    spec = importlib.util.spec_from_file_location(
        "docs_gen_recorder", ROOT / "addons" / "docker_recorder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    addon = module.DockerRecorder()
    with taddons.context(addon) as tctx:
        options = {k: v for k, v in tctx.options._options.items() if k.startswith("dockdrift_")}
        rows = [[f"`{k}`", getattr(o.typespec, "__name__", str(o.typespec)),
                 f"`{o.default}`" if o.default != "" else "", " ".join(o.help.split())]
                for k, o in options.items()]
        addon.done()
    return _table(["option", "type", "default", "meaning"], rows)


def _first_paragraph(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def gen_layout() -> str:
    """Every package folder (an __init__.py) with the first paragraph of its docstring."""
    rows = []
    for init in sorted(ROOT.glob("*/**/__init__.py")):
        folder = init.parent.relative_to(ROOT)
        if folder.parts[0] in {"tests", "benchmarks", "build", "site"} or ".venv" in folder.parts:
            continue
        rows.append([f"`{folder}/`", _first_paragraph(init).replace("\n", " ")])
    modules = sorted(p for p in (ROOT / "addons").glob("*.py"))
    rows += [[f"`{m.relative_to(ROOT)}`", _first_paragraph(m)] for m in modules]
    return _table(["folder", "what it holds (its docstring)"], rows)


def gen_servers() -> str:
    """The real servers the tests drive: tests/conftest.py IMPLEMENTATIONS."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from conftest import IMPLEMENTATIONS
    finally:
        sys.path.remove(str(ROOT / "tests"))
    rows = [[f"`{i.name}`", i.label, f"`{i.default}`", f"`{i.up}`", f"`{i.env}`"]
            for i in IMPLEMENTATIONS.values()]
    return _table(["name", "implementation", "endpoint", "started by", "override"], rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "layout": gen_layout, "servers": gen_servers,
    "cli": gen_cli, "commands": gen_commands, "exchanges": gen_exchanges, "tables": gen_tables,
    "probe-cases": gen_probe_cases, "mitmdump-options": gen_mitmdump_options,
}


def files() -> list[Path]:
    return sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


def render(text: str, cache: dict[str, str]) -> str:
    def fill(m: re.Match) -> str:
        name = m["name"]
        if name not in GENERATORS:
            raise SystemExit(f"docs_gen: unknown generated block {name!r}")
        if name not in cache:
            cache[name] = GENERATORS[name]()
        return m.group(1) + cache[name] + m.group(4)

    return BLOCK.sub(fill, text)


def stale(write: bool) -> list[Path]:
    """The files whose generated blocks differ from the code; rewritten when `write`."""
    cache: dict[str, str] = {}
    changed = []
    for path in files():
        text = path.read_text()
        new = render(text, cache)
        if new != text:
            changed.append(path)
            if write:
                path.write_text(new)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which files are stale")
    args = parser.parse_args(argv)
    changed = stale(write=not args.check)
    for path in changed:
        verb = "is stale" if args.check else "rewritten"
        print(f"{path.relative_to(ROOT)} {verb}", file=sys.stderr)
    if args.check and changed:
        print("run `make docs-gen` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
