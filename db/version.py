"""Which dockdrift this is: for `--version`, JSON outputs, HTML footers and saved drift runs.

In storage (the bottom layer) because saved drift runs and every renderer carry it; the
commands and the proxy side read it through dockdrift.version.
"""

from __future__ import annotations

from functools import lru_cache

from dockdrift.db.basics import SCHEMA_VERSION  # no SQLAlchemy: --version stays light

FALLBACK_VERSION = "0.3.0"  # keep equal to pyproject.toml's version


@lru_cache(maxsize=1)
def package_version() -> str:
    """The installed distribution's version, or the checkout's when run without installing."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("dockdrift")
    except PackageNotFoundError:
        return FALLBACK_VERSION


def version_info() -> dict[str, object]:
    """`{"version": "0.3.0", "schema": 3}`: the `"dockdrift"` key of every JSON output."""
    return {"version": package_version(), "schema": SCHEMA_VERSION}


def version_line() -> str:
    """One line for `dockdrift --version` and bug reports (mitmproxy only if installed)."""
    try:
        from importlib.metadata import version

        mitm = version("mitmproxy")
    except Exception:  # noqa: BLE001 - the line must print whatever is missing
        mitm = "not installed"
    return f"dockdrift {package_version()} (schema {SCHEMA_VERSION}, mitmproxy {mitm})"
