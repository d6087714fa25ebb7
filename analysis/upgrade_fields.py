"""Fields a client used that the target's documentation removed or retyped (body shapes).

A request that names its API version (`/v1.41/...`) is answered at that version by any target
that accepts it: its fields do not move. A version-less request is answered at the daemon's
own version, so after the upgrade it gets the target's shapes: a field the client received
(or sent) that the documentation of the version it was served at has, and the target's
documentation lacks (or types differently), is a risk. Field paths and types only, never
values (db.shapes). Engine targets only: Podman's own documentation has no shapes here.
"""

from __future__ import annotations

from sqlalchemy import Engine, and_, func, select

from dockdrift.analysis.against import nearest_version
from dockdrift.analysis.load import Filter
from dockdrift.analysis.shapes.core import under_open
from dockdrift.analysis.shapes.documented import DocIndex
from dockdrift.analysis.shapes.load import shape_texts
from dockdrift.db.clients import identify
from dockdrift.db.models import Exchange as E
from dockdrift.db.spec_shapes import DocShape
from dockdrift.db.upgrade_targets import Target

RISKS_SHOWN = 8


def field_risks(engine: Engine, flt: Filter, target: Target) -> dict[tuple[str, str, str],
                                                                    list[str]]:
    """Client key (as analysis.clients.Client.key) -> what the target's documentation no
    longer has of the fields its version-less exchanges carried."""
    if target.documented != "spec" or not target.max_api:
        return {}
    try:
        docs = DocIndex("own")
    except ValueError:  # no documented shapes in this installation
        return {}
    after = nearest_version(target.max_api, docs.versions)
    keys = [E.user_agent, E.client_name, E.client_version, E.peer_process, E.method, E.route,
            E.status_code, E.target, E.target_version]
    stmt = (select(*keys, E.response_shape, E.request_shape, func.count())
            .where(and_(*flt.where(), E.api_version.is_(None), E.route.is_not(None),
                        E.status_code.is_not(None), E.target == "engine",
                        (E.response_shape.is_not(None)) | (E.request_shape.is_not(None))))
            .group_by(*keys, E.response_shape, E.request_shape))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    texts = shape_texts(engine, {h for r in rows for h in r[9:11] if h})
    out: dict[tuple[str, str, str], set[str]] = {}
    for ua, name, version, proc, method, route, status, kind, kind_version, resp, req, _ in rows:
        before = docs.version_for(kind, kind_version, route, None)
        if before is None or before == after:
            continue
        if name is None:
            name, version = identify(ua)
        found = out.setdefault((name or "", version or "", proc or ""), set())
        for side, shape in (("received", resp), ("sent", req)):
            if not shape or shape not in texts:
                continue
            old, new = _doc(docs, before, kind, method, route, status, side), _doc(
                docs, after, kind, method, route, status, side)
            if old is None or new is None:
                continue
            for path in texts[shape]:
                change = _change(path, old, new)
                if change:
                    found.add(f"{method} {route}: field {path or '.'} ({side}) {change} "
                              f"from spec {before} to spec {after}")
    return {k: sorted(v)[:RISKS_SHOWN] for k, v in out.items() if v}


def _doc(docs: DocIndex, version: str, kind: str, method: str, route: str, status: int,
         side: str) -> DocShape | None:
    if side == "sent":
        return docs._spec(version).get((method, _shape(route)), {}).get("request")
    return docs._spec(version).get((method, _shape(route)), {}).get(str(status))


def _shape(route: str) -> str:
    from dockdrift.db.routes import route_shape

    return route_shape(route)


def _change(path: str, old: DocShape, new: DocShape) -> str | None:
    """`removed` / `retyped` when the older documentation had the field and the newer one
    does not (or types it otherwise); None when nothing documented moved."""
    if path not in old.types or under_open(path, new):
        return None
    if path not in new.types:
        return "removed"
    if old.types[path] and new.types[path] and not old.types[path] <= new.types[path]:
        return (f"retyped {'|'.join(sorted(old.types[path]))} -> "
                f"{'|'.join(sorted(new.types[path]))}")
    return None
