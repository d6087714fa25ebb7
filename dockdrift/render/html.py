"""HTML pages from the Jinja2 templates in dockdrift/render/templates, autoescaped.

The only place dockdrift writes markup: renderers hand a template plain values (text,
numbers, (text, kind) badges, images as data URIs) and never escape anything themselves.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("dockdrift.render", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def made_by() -> str:
    """The footer of every HTML page: which dockdrift (and schema, mitmproxy) made it."""
    from dockdrift.db.version import version_line

    return f"made by {version_line()}"


def page(template: str, title: str, subtitle: str = "", **context: Any) -> str:
    """One self-contained page (inline CSS, images as data URIs, the version footer)."""
    text = environment().get_template(template).render(
        title=title, subtitle=subtitle, made_by=made_by(), **context)
    return text.rstrip("\n") + "\n"


def figure_to_data_uri(fig: Any, dpi: int = 110) -> str:
    """A matplotlib Figure as a base64 PNG data URI (closes nothing: the caller owns it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
