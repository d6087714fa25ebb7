"""MkDocs hook: `<!-- include: FILE -->` puts a file of the repository root (CONTRIBUTING.md,
CHANGELOG.md) into a page, its links rewritten from the root's view (`docs/testing.md`,
`LICENSE`) to the site's (`testing.md`, `license.md`). Snippets run too late for that."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_ROOT_LINKS = {"CHANGELOG.md": "changelog.md", "CONTRIBUTING.md": "contributing.md",
               "LICENSE": "license.md", "README.md": "index.md"}
_INCLUDE = re.compile(r"<!-- include: ([\w.-]+) -->")


def _relink(m: re.Match) -> str:
    target = _ROOT_LINKS.get(m.group(1), m.group(1).removeprefix("docs/"))
    return f"]({target}{m.group(2) or ''})"


def _include(m: re.Match) -> str:
    text = (ROOT / m.group(1)).read_text()
    return re.sub(r"\]\((?!https?://)([^)#\s]+)(#[^)]*)?\)", _relink, text)


def on_page_markdown(markdown: str, **_: object) -> str:
    return _INCLUDE.sub(_include, markdown)
