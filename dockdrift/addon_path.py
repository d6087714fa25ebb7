"""Print the path of the recorder addon, for `mitmdump -s "$(dockdrift addon-path)" ...`.

  mitmdump -s "$(dockdrift addon-path)" --mode reverse:http://127.0.0.1:2375 -p 2376 \\
      --set dockdrift_db=capture.sqlite

An installed dockdrift carries the addon as dockdrift/addons/docker_recorder.py; a checkout
has it at addons/docker_recorder.py. Run the mitmdump of the same environment (pipx: install
with --include-deps): the addon imports dockdrift's `db` package.
Exit codes: 0 printed, 2 the addon is missing (a broken install).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dockdrift.errors import UsageError

ADDON_NAME = "docker_recorder.py"
_PACKAGE = Path(__file__).resolve().parent


def addon_path() -> Path:
    """The recorder addon: the installed copy (dockdrift/addons/) or the checkout's (addons/)."""
    for candidate in (_PACKAGE / "addons" / ADDON_NAME, _PACKAGE.parent / "addons" / ADDON_NAME):
        if candidate.is_file():
            return candidate
    raise UsageError(f"the recorder addon {ADDON_NAME} is missing (looked in {_PACKAGE / 'addons'} "
                     f"and {_PACKAGE.parent / 'addons'}): reinstall dockdrift")


def add_arguments(p: argparse.ArgumentParser) -> None:
    del p  # no options: the path is all it prints


def run(args: argparse.Namespace) -> int:
    del args
    print(addon_path())
    return 0
