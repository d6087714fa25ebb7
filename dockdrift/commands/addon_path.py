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

from dockdrift.addon_path import addon_path


def add_arguments(p: argparse.ArgumentParser) -> None:
    del p  # no options: the path is all it prints


def run(args: argparse.Namespace) -> int:
    del args
    print(addon_path())
    return 0
