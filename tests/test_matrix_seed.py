"""`--format seed` regenerates the source document from answers: a store built from the seed
table's own codes (one exchange per documented code, a `swarm 1.2.9` and an `engine 1.10.3`
implementation; no engine exchange where the Docker column says n/a) comes back as the
document's routes, handlers and codes, in the document's order, with `no this api` where the
document says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from dockdrift.analysis.matrix.seed import NO_API, parse_seed_text
from dockdrift.db import tables
from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange
from dockdrift.cli import main

SWARM, ENGINE = "swarm 1.2.9", "engine 1.10.3"
DOCUMENT = Path(__file__).resolve().parents[2] / "shared" / "seed" / \
    "status-code-comparison-to-docker.txt"


def seed_exchanges() -> list[dict]:
    out, t0 = [], datetime(2026, 11, 30)
    for r in tables.read_seed():
        sides = [("swarm", "1.2.9", r.swarm_codes or ())]
        if not r.engine_absent:
            sides.append(("engine", "1.10.3", r.engine_codes or ()))
        for target, version, codes in sides:
            for code in codes:
                out.append({"started_at": t0 + timedelta(seconds=len(out)), "method": r.method,
                            "path": "/v1.22" + r.route, "api_version": "1.22", "route": r.route,
                            "handler": r.handler, "route_source": "seed-v1.22",
                            "status_code": code, "target": target, "target_version": version})
    return out


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.sqlite"
    engine = make_engine(path)
    with Session(engine) as s, s.begin():
        s.execute(insert(Exchange), seed_exchanges())
    engine.dispose()
    return path


def expected() -> list[dict]:
    return [{"method": r.method, "route": r.route, "handler": r.handler,
             "a_codes": list(r.swarm_codes or ()),
             "b_codes": NO_API if r.engine_absent else list(r.engine_codes or ())}
            for r in tables.read_seed()]


def test_seed_layout_round_trips(capsys, seed_store, tmp_path):
    out = tmp_path / "table.txt"
    code = main(["matrix", "--db", str(seed_store), "--format", "seed", "--against", "seed",
                 "--compare", SWARM, ENGINE, "-o", str(out)])
    capsys.readouterr()
    text = out.read_text()
    assert code == 1  # Swarm and the Engine differ on many routes: the document's point
    assert f"{SWARM} Status Code   {ENGINE} Status Code" in text
    assert parse_seed_text(text) == expected()


def test_routes_and_handlers_in_the_documents_order(capsys, seed_store):
    if not DOCUMENT.exists():  # the shared checkout: the data file was checked against it
        pytest.skip(f"{DOCUMENT} not here")
    main(["matrix", "--db", str(seed_store), "--format", "seed", "--against", "seed",
          "--compare", SWARM, ENGINE])
    rows = parse_seed_text(capsys.readouterr().out)
    document = tables._parse_source_document(DOCUMENT.read_text())
    assert [(r["method"], r["route"], r["handler"]) for r in rows] == document


def test_columns_swap(capsys, seed_store):
    main(["matrix", "--db", str(seed_store), "--format", "seed", "--against", "seed",
          "--compare", ENGINE, SWARM])
    rows = parse_seed_text(capsys.readouterr().out)
    viz = next(r for r in rows if r["route"] == "/images/viz")
    assert viz["a_codes"] == NO_API and viz["b_codes"] == [501]
