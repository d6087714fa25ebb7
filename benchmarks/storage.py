"""Bytes per exchange on disk, per table and index, and what normalising strings would save.

Normalising means storing small integer ids for the repeated strings (route, handler,
route_source, user_agent, server) in `exchanges` and the strings once in lookup tables,
behind an `exchanges` view that keeps the public column names. The estimate: each such
column shrinks from its average text length to a 1-2 byte integer, in the table and in every
index that holds it; measured from the store itself, not implemented (see README).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

NORMALISABLE = ("route", "handler", "route_source", "user_agent", "server")


def measure(db: Path) -> dict:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT count(*) FROM exchanges").fetchone()[0]
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        indexes = {name: [c[2] for c in conn.execute(f'PRAGMA index_info("{name}")')]
                   for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE "
                                               "type='index' AND tbl_name='exchanges'")}
        avg = dict(zip(NORMALISABLE, conn.execute(
            "SELECT " + ", ".join(f"avg(coalesce(length({c}), 0))" for c in NORMALISABLE)
            + " FROM exchanges").fetchone(), strict=True))
        distinct = dict(zip(NORMALISABLE, conn.execute(
            "SELECT " + ", ".join(f"count(DISTINCT {c})" for c in NORMALISABLE)
            + " FROM exchanges").fetchone(), strict=True))
    per_object = {name: sizes.get(name, 0) / rows for name in ["exchanges", *indexes]}
    total = sum(per_object.values())

    def saving(col: str) -> float:  # text of n bytes -> an integer of 1-2 bytes
        return max(avg[col] - (1 if distinct[col] < 128 else 2), 0.0)

    table_saving = sum(saving(c) for c in NORMALISABLE)
    index_saving = sum(saving(c) for cols in indexes.values() for c in cols if c in NORMALISABLE)
    return {"rows": rows, "bytes_per_row": total, "file_bytes_per_row": db.stat().st_size / rows,
            "per_object": per_object, "avg_text_bytes": avg, "distinct": distinct,
            "normalise_saving_bytes_per_row": table_saving + index_saving,
            "normalise_saving_pct": 100.0 * (table_saving + index_saving) / total}
