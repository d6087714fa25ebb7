"""Which dockdrift this is (dockdrift.db.version, here for the commands and the proxy side)."""

from dockdrift.db.version import FALLBACK_VERSION, package_version, version_info, version_line

__all__ = ["FALLBACK_VERSION", "package_version", "version_info", "version_line"]
