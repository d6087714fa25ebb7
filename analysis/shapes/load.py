"""The shapes' SQL: exchanges grouped by (implementation, request, status, shape), then the
distinct shapes those groups name. Memory follows the number of distinct shapes and groups,
never the number of exchanges; the shapes' union runs in Python over those few rows."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, and_, not_, or_, select
from sqlalchemy import func as sqlfunc

from dockdrift.analysis.load import Filter
from dockdrift.db.models import Exchange, Shape

AUX_MARK = "#"  # a probe case's setup/cleanup requests (analysis.matrix.load)


@dataclass(frozen=True)
class ShapeGroup:
    """Exchanges of one implementation that answered one request with one body shape."""

    target: str | None
    target_version: str | None
    method: str
    route: str
    case: str | None
    api_version: str | None
    status_code: int
    shape_hash: str
    client: str | None
    count: int
    min_api_version: str | None = None  # the server's floor: part of its label when not default


def shape_groups(engine: Engine, flt: Filter | None = None, side: str = "response",
                 include_setup: bool = False) -> list[ShapeGroup]:
    """One GROUP BY over the filtered, answered, not denied exchanges that have a `side` shape
    (`response` or `request`). `client` is the client's name (request side only)."""
    shape_col = Exchange.response_shape if side == "response" else Exchange.request_shape
    client = Exchange.client_name if side == "request" else None
    keys = [Exchange.target, Exchange.target_version, Exchange.method, Exchange.route,
            Exchange.probe_case, Exchange.api_version, Exchange.status_code, shape_col,
            Exchange.min_api_version]
    if client is not None:
        keys.append(client)
    conds = [*(flt or Filter()).where(), shape_col.is_not(None), Exchange.route.is_not(None),
             Exchange.status_code.is_not(None), Exchange.denied.is_not(True)]
    if not include_setup:
        conds.append(or_(Exchange.probe_case.is_(None),
                         not_(Exchange.probe_case.contains(AUX_MARK, autoescape=True))))
    stmt = select(*keys, sqlfunc.count()).where(and_(*conds)).group_by(*keys)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        client_name = r[9] if client is not None else None
        out.append(ShapeGroup(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7],
                              client_name, int(r[-1]), r[8]))
    return out


def shape_texts(engine: Engine, hashes: set[str]) -> dict[str, dict[str, list[str]]]:
    """shape_hash -> {path: types} for the hashes named (read in chunks of 500)."""
    out: dict[str, dict[str, list[str]]] = {}
    wanted = sorted(hashes)
    with engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            stmt = select(Shape.shape_hash, Shape.shape).where(
                Shape.shape_hash.in_(wanted[i:i + 500]))
            for h, text in conn.execute(stmt):
                try:
                    doc = json.loads(text)
                except ValueError:
                    continue  # a damaged row: that shape is left out, not guessed
                if isinstance(doc, dict):  # the body itself: "." in the store, "" here
                    out[h] = {("" if p == "." else str(p)): [str(t) for t in ts]
                              for p, ts in doc.items() if isinstance(ts, list)}
    return out
