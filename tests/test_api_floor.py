"""The API floor is part of an implementation: /version's MinAPIVersion is recorded with each
exchange, rolled up, and a floor other than the release's default names its own column.

Engine 28.5.2 started with DOCKER_MIN_API_VERSION=1.44 (Engine 29.0's floor) reports
`"MinAPIVersion": "1.44"`; the same daemon without it reports 1.24, its release's default
(db.implementations.RELEASES)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dockdrift.analysis.matrix.core import build_matrix, select_implementations
from dockdrift.analysis.matrix.load import matrix_counts
from dockdrift.db.engine import make_engine
from dockdrift.db.implementations import (
    RELEASES,
    api_version_of,
    default_floor,
    from_version_body,
    implementation_label,
)
from dockdrift.db.models import Exchange, Rollup
from dockdrift.db.record import build_row
from dockdrift.db.rollup import rollup
from dockdrift.db.target import TargetTracker

V28 = "28.5.2+dfsg4"
ENGINE_28 = {"Version": V28, "ApiVersion": "1.51", "MinAPIVersion": "1.24",
             "Components": [{"Name": "Engine", "Version": V28}]}
FLOOR_28 = {**ENGINE_28, "MinAPIVersion": "1.44"}
FLOOR_LABEL = f"engine {V28} (min API 1.44)"


def test_releases_are_data_with_sources():
    assert all(r.source for r in RELEASES)
    assert default_floor("engine", "20.10.24+dfsg1") == "1.12"
    assert default_floor("engine", V28) == "1.24"
    assert default_floor("engine", "29.0.1") == "1.44"
    assert default_floor("engine", "29.3.0") == "1.40"
    assert default_floor("podman", "5.8.6") == "1.24"
    assert default_floor("swarm", "1.2.9") is None
    assert api_version_of("engine", V28) == "1.51"
    assert api_version_of("engine", "26.1.5+dfsg1") == "1.45"


def test_a_floor_other_than_the_default_is_part_of_the_name():
    assert implementation_label("engine", V28) == f"engine {V28}"
    assert implementation_label("engine", V28, "1.24") == f"engine {V28}"
    assert implementation_label("engine", V28, "1.44") == FLOOR_LABEL
    assert implementation_label("podman", "5.8.6", "1.24") == "podman 5.8.6"
    # a release the data does not know: its floor is named whatever it is
    assert implementation_label("engine", "17.06.0-ce", "1.12") == "engine 17.06.0-ce (min API 1.12)"


def test_version_body_gives_the_floor_and_an_info_body_keeps_it():
    found = from_version_body(json.dumps(FLOOR_28).encode(), f"Docker/{V28} (linux)")
    assert found is not None and found.min_api_version == "1.44"
    assert found.implementation == FLOOR_LABEL
    tracker = TargetTracker()
    tracker.observe("GET", "/version", 200, json.dumps(FLOOR_28).encode())
    assert tracker.floor("engine") == "1.44"
    info = json.dumps({"ServerVersion": V28, "Containers": 0}).encode()
    tracker.observe("GET", "/v1.51/info", 200, info, f"Docker/{V28} (linux)")
    assert tracker.floor("engine") == "1.44"  # /info says no floor: the /version one stays
    assert tracker.floor("podman") is None  # not the kind /version named
    tracker.observe("GET", "/version", 200, json.dumps(ENGINE_28).encode())
    assert tracker.floor("engine") == "1.24"  # restarted without the floor


def _rows(floor: str | None, status: int, t0: datetime) -> list[dict]:
    return [build_row(method="GET", raw_target=b"/v1.41/version", started=(
        t0 - datetime(1970, 1, 1)).total_seconds(), ended=None, status_code=status,
        target="engine", target_version=V28, probe_case="version@1.41",
        min_api_version=floor)]


def test_store_matrix_filter_and_rollup_keep_floors_apart(tmp_path):
    engine = make_engine(tmp_path / "floor.sqlite")
    day = datetime(2026, 12, 1, 12)
    with Session(engine) as s, s.begin():
        s.execute(insert(Exchange), _rows("1.24", 200, day) + _rows("1.44", 400, day)
                  + _rows("1.44", 400, day + timedelta(minutes=1)))
    counts = matrix_counts(engine)
    m = build_matrix(counts)
    assert m.implementations == [f"engine {V28}", FLOOR_LABEL]
    (row,) = m.to_dict()["rows"]
    assert row["case"] == "version@1.41" and row["verdict"] == "differ"
    assert row["observed"] == {f"engine {V28}": {"200": 1}, FLOOR_LABEL: {"400": 2}}
    only = select_implementations(counts, [FLOOR_LABEL])
    assert set(only["implementation"]) == {FLOOR_LABEL} and int(only["count"].sum()) == 2
    rollup(engine, now=day + timedelta(days=1))
    with engine.connect() as conn:
        got = sorted(conn.execute(select(Rollup.min_api_version, Rollup.status_code,
                                         Rollup.count)).all())
    assert got == [("1.24", 200, 1), ("1.44", 400, 2)]
    engine.dispose()


def test_counts_without_the_column_have_no_floor():
    counts = pd.DataFrame([{"target": "engine", "target_version": V28, "method": "GET",
                            "route": "/info", "case": None, "api_version": "1.51",
                            "status_code": 200, "exit_code": None, "stream_error": False,
                            "denied": False, "handler": "getInfo", "count": 1}])
    assert build_matrix(counts).implementations == [f"engine {V28}"]
