"""Body shapes (field paths and JSON types, never values) compared across implementations and
with the documentation. Public: `load_shapes` (store -> ShapeReport), `ShapeReport`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockdrift.analysis.shapes.core import (
    FINDING_KINDS, DocFinding, FieldRow, RequestField, ShapeReport, compare_shapes, request_fields)
from dockdrift.analysis.shapes.documented import DocIndex

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.load import Filter

__all__ = ["FINDING_KINDS", "DocFinding", "DocIndex", "FieldRow", "RequestField", "ShapeReport",
           "compare_shapes", "load_shapes"]


def load_shapes(engine: Engine, flt: Filter | None = None, against: str = "own",
                implementations: list[str] | None = None,
                include_setup: bool = False) -> ShapeReport:
    """Two queries (groups, then their distinct shapes) and the comparison in Python.

    Raises analysis.against.AgainstError for an unknown `against`.
    """
    from dataclasses import replace

    from dockdrift.analysis.shapes.load import shape_groups, shape_texts

    docs = DocIndex(against)
    groups = shape_groups(engine, flt, "response", include_setup)
    sent = shape_groups(engine, flt, "request", include_setup)
    texts = shape_texts(engine, {g.shape_hash for g in groups} | {g.shape_hash for g in sent})
    report = compare_shapes(groups, texts, docs, implementations)
    return replace(report, requests=request_fields(sent, texts, docs),
                   summary={**report.summary, "against": against})
