"""A literal store of body shapes for the shapes tests, written straight into `shapes` and
`exchanges` (the recorder's contract), never a body value.

Two implementations, engine 26.1.5 (requests at /v1.45) and podman 4.3.1 (compat, /v1.41):
1. GET /containers/json 200: both send Id, Names, Created and Labels; podman sends `Labels` as
   null (null where spec 1.41 says object) and a `Pod` field (not in the spec), so the rows
   `[].Labels` and `[].Pod` differ; `[].Id` agrees.
2. GET /containers/{id}/json 404 (Podman's template `{name}`, the same route): the engine
   sends `.message`; podman `.message`, `.cause` and `.response` (undocumented, differ).
3. GET /images/json 200: only podman answered; it left out the required `RepoDigests`,
   `SharedSize`, `VirtualSize`, `Containers`, `ParentId` and sent `Created` as a string (a type
   mismatch); fields of one implementation only always agree.
4. GET /version 200: both send the same fields; the engine twice (two exchanges, one shape).
5. GET /libpod/info 200 from podman: no documentation (documented null), no findings.
6. POST /containers/create from the docker CLI: request fields `.Image` (documented) and
   `.Bogus` (not documented in the request body); answered 201 with `.Id` and `.Warnings`.
7. A denied request with a shape and an exchange without one: neither counts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange, Shape

T0 = datetime(2026, 12, 1, 12, 0, 0)
ENGINE = ("engine", "26.1.5+dfsg1", "1.45")
PODMAN = ("podman", "4.3.1", "1.41")
E, P = "engine 26.1.5+dfsg1", "podman 4.3.1"

LIST_E = {".": ["array"], "[]": ["object"], "[].Id": ["string"], "[].Names": ["array"],
          "[].Names[]": ["string"], "[].Created": ["integer"], "[].Labels": ["object"],
          "[].Labels.*": ["string"]}
LIST_P = {**{k: v for k, v in LIST_E.items() if k != "[].Labels.*"},
          "[].Labels": ["null"], "[].Pod": ["string"]}
ERR_E = {".": ["object"], ".message": ["string"]}
ERR_P = {".": ["object"], ".message": ["string"], ".cause": ["string"], ".response": ["integer"]}
IMAGES_P = {".": ["array"], "[]": ["object"], "[].Id": ["string"], "[].RepoTags": ["array"],
            "[].RepoTags[]": ["string"], "[].Created": ["string"], "[].Size": ["integer"],
            "[].Labels": ["object"]}
VERSION = {".": ["object"], ".Version": ["string"], ".ApiVersion": ["string"],
           ".Components": ["array"], ".Components[]": ["object"], ".Components[].Name": ["string"],
           ".Components[].Version": ["string"]}
LIBPOD = {".": ["object"], ".host": ["object"], ".host.arch": ["string"]}
CREATE_REQ = {".": ["object"], ".Image": ["string"], ".Bogus": ["string"]}
CREATE_RESP = {".": ["object"], ".Id": ["string"], ".Warnings": ["array"]}

# (implementation, method, route, status, request shape, response shape, client, denied, n)
ROWS: list[tuple] = [
    (ENGINE, "GET", "/containers/json", 200, None, LIST_E, None, False, 1),
    (PODMAN, "GET", "/containers/json", 200, None, LIST_P, None, False, 1),
    (ENGINE, "GET", "/containers/{name:.*}/json", 404, None, ERR_E, None, False, 1),
    (PODMAN, "GET", "/containers/{name}/json", 404, None, ERR_P, None, False, 1),
    (PODMAN, "GET", "/images/json", 200, None, IMAGES_P, None, False, 1),
    (ENGINE, "GET", "/version", 200, None, VERSION, None, False, 2),
    (PODMAN, "GET", "/version", 200, None, VERSION, None, False, 1),
    (PODMAN, "GET", "/libpod/info", 200, None, LIBPOD, None, False, 1),
    (ENGINE, "POST", "/containers/create", 201, CREATE_REQ, CREATE_RESP, "docker-cli", False, 1),
    (PODMAN, "GET", "/info", 403, None, ERR_E, None, True, 1),
    (ENGINE, "GET", "/_ping", 200, None, None, None, False, 1),
]


def shape_hash(shape: dict) -> str:
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:32]


def write_store(path: Path, rows: list[tuple] = ROWS, t0: datetime = T0) -> Path:
    engine = make_engine(str(path))
    shapes, exchanges, i = {}, [], 0
    for (target, version, api), method, route, status, req, resp, client, denied, n in rows:
        for shape in (req, resp):
            if shape is not None:
                shapes[shape_hash(shape)] = {
                    "shape_hash": shape_hash(shape), "shape": json.dumps(shape, sort_keys=True),
                    "truncated": False, "stream": False, "first_seen": t0}
        for _ in range(n):
            exchanges.append({
                "started_at": t0 + timedelta(minutes=i), "method": method,
                "path": f"/v{api}" + route.replace("{name:.*}", "c1").replace("{name}", "c1"),
                "api_version": api, "route": route, "route_source": "test",
                "status_code": status, "target": target, "target_version": version,
                "denied": denied, "client_name": client,
                "request_shape": shape_hash(req) if req else None,
                "response_shape": shape_hash(resp) if resp else None})
            i += 1
    with Session(engine) as s, s.begin():
        if shapes:
            s.execute(insert(Shape).prefix_with("OR IGNORE"), list(shapes.values()))
        s.execute(insert(Exchange), exchanges)
    engine.dispose()
    return path
