"""`dockdrift` command line: one entry point, subcommands in their own modules.

Exit codes are the contract: 0 no drift / success, 1 drift or undocumented codes found,
2 usage or input error (one line on stderr), 3 not enough data to decide (report, drift,
matrix; --allow-empty turns it into 0), 130 interrupted.
Each command module exposes `add_arguments(parser)` and `run(args) -> int`, and keeps
heavy imports (pandas, matplotlib, mitmproxy) inside `run` so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from dockdrift.errors import EXIT_INTERRUPTED, EXIT_USAGE, user_error

COMMANDS: dict[str, tuple[str, str]] = {
    "capture": ("dockdrift.commands.capture", "record live Docker API traffic through a proxy"),
    "report": ("dockdrift.commands.report", "observed status codes vs the documented tables"),
    "drift": ("dockdrift.commands.drift", "what changed between a baseline and a current window"),
    "matrix": ("dockdrift.commands.matrix", "implementations (Engine, Swarm, Podman) side by side"),
    "shapes": ("dockdrift.commands.shapes", "body shapes (fields and JSON types) per "
               "implementation and against the documentation"),
    "routes": ("dockdrift.commands.routes", "print the documented tables"),
    "tables": ("dockdrift.commands.tables", "regenerate or extend the documented tables"),
    "addon-path": ("dockdrift.commands.addon_path", "print the recorder addon's path (mitmdump -s)"),
    "import": ("dockdrift.commands.import_captures", "copy captures into a fleet store, idempotently"),
    "rollup": ("dockdrift.commands.rollup", "count complete days into daily rollups"),
    "prune": ("dockdrift.commands.prune", "delete raw rows the daily rollups cover"),
    "probe": ("dockdrift.commands.probe", "send a fixed set of safe test requests and record them"),
    "clients": ("dockdrift.commands.clients", "who calls the Docker API: client, process, "
                "API versions, routes"),
    "upgrade": ("dockdrift.commands.upgrade", "which recorded clients an upgrade would "
                "break (API floor, removed routes)"),
    "allowlist": ("dockdrift.commands.allowlist", "turn what was recorded into a Docker socket "
                  "allowlist (HAProxy, socket-proxy, JSON for capture --enforce)"),
}


class _Version(argparse.Action):
    """`--version`: the line of dockdrift.version, computed only when asked (it imports db)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print dockdrift's, the schema's and mitmproxy's versions")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from dockdrift.version import version_line

        print(version_line())  # stdout, like every --version (argparse's exit() writes stderr)
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other usage error
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Only the chosen command's module is imported: `dockdrift report` never loads mitmproxy."""
    chosen = next((a for a in (argv or []) if not a.startswith("-")), None)
    parser = _Parser(prog="dockdrift", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        if name != chosen:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=module.__doc__ or help_text,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        print(f"dockdrift {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the one place errors become exit codes (dockdrift.errors)
        known = user_error(exc, getattr(args, "db", None))
        if known is None:
            raise  # a bug: the traceback is for the bug report
        code, line = known
        print(f"dockdrift {args.command}: {line or repr(exc)}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
