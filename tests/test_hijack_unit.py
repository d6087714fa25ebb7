"""The hijack fix: pinned to the tested mitmproxy, and installed by the addon."""

from __future__ import annotations

import pytest
from mitmproxy import version

from dockdrift import hijack


def test_refuses_an_untested_mitmproxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(version, "VERSION", "11.1.0")
    with pytest.raises(hijack.UnsupportedMitmproxy, match="tested with mitmproxy 11.0.2"):
        hijack.install()


def test_installed_version_is_supported_and_patch_applies() -> None:
    assert version.VERSION in hijack.SUPPORTED
    hijack.install()
    hijack.install()  # idempotent
    assert hijack.installed()
