"""Where the recorder addon is: the installed copy (dockdrift/addons/) or the checkout's.

The capture server loads it from here; `dockdrift addon-path` prints it.
"""

from __future__ import annotations

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
