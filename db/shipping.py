"""Copy captures into a fleet store, idempotently: `dockdrift import SOURCE... --into URL`.

Every exchange has a stable identity that survives copying: its `uid` when it was copied in
before, else `<store_id>:<id>` of the store that recorded it (`dockdrift_meta.store_id`). The
target's unique index on `uid` makes a second import of the same capture add nothing, and a
capture imported into A and then A into B still arrives once. No pandas here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dockdrift.db.engine import STORE_ID_KEY, StoreError
from dockdrift.db.models import Exchange, Meta

BATCH = 5000
_TABLE = cast(Table, Exchange.__table__)
COPIED_COLUMNS = [c.name for c in _TABLE.columns if c.name != "id"]


@dataclass
class ImportResult:
    source: str
    read: int = 0
    added: int = 0

    @property
    def skipped(self) -> int:
        return self.read - self.added


def store_id(engine: Engine) -> str:
    """This store's id; made (and saved) on first use. A read-only store without one gets a
    digest of its first rows, which is the same for every copy of the file."""
    with Session(engine) as s:
        value = s.scalar(select(Meta.value).where(Meta.key == STORE_ID_KEY))
    if value:
        return value
    new = uuid.uuid4().hex
    try:
        with Session(engine) as s, s.begin():
            s.merge(Meta(key=STORE_ID_KEY, value=new))
        return new
    except SQLAlchemyError:
        pass
    h = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(select(Exchange.id, Exchange.started_at, Exchange.method,
                                       Exchange.path).order_by(Exchange.id).limit(1000)):
            h.update(repr(tuple(row)).encode())
    return "ro" + h.hexdigest()[:30]


def _batches(engine: Engine, size: int) -> Iterator[list[dict[str, Any]]]:
    """The source's rows in id order (keyset pagination: flat memory on any size)."""
    last = 0
    cols = [_TABLE.c.id, *(_TABLE.c[name] for name in COPIED_COLUMNS)]
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(*cols).where(_TABLE.c.id > last)
                                .order_by(_TABLE.c.id).limit(size)).mappings().all()
        if not rows:
            return
        last = rows[-1]["id"]
        yield [dict(r) for r in rows]


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(_TABLE)) or 0)


def import_store(source: Engine, into: Engine, *, name: str = "",
                 progress: Callable[[int], None] | None = None,
                 batch: int = BATCH) -> ImportResult:
    """Copy every exchange of `source` that `into` does not hold yet; returns the counts."""
    sid, tid = store_id(source), store_id(into)
    if sid == tid:
        raise StoreError(f"{name or 'the source'} is the target store itself: nothing to import")
    result = ImportResult(name)
    for rows in _batches(source, batch):
        for r in rows:
            rid = r.pop("id")
            r["uid"] = r["uid"] or f"{sid}:{rid}"
        uids = [r["uid"] for r in rows]
        with into.begin() as conn:
            have = set(conn.scalars(select(_TABLE.c.uid).where(_TABLE.c.uid.in_(uids))))
            new = [r for r in rows if r["uid"] not in have]
            if new:
                conn.execute(insert(_TABLE), new)
        result.read += len(rows)
        result.added += len(new)
        if progress is not None:
            progress(len(rows))
    return result
