"""dockdrift.analysis.matrix's pure core on the ten-row literal store (tests/matrix_helpers.py says what
differs and why) and on a few hand-written aggregates."""

from __future__ import annotations

import pandas as pd
import pytest
from matrix_helpers import E, P, exchange_dicts, write_store

from dockdrift.analysis.load import Filter
from dockdrift.analysis.matrix import load
from dockdrift.analysis.matrix.load import load_matrix
from dockdrift.analysis.matrix.core import UnknownImplementation, build_matrix, verdict
from dockdrift.db.engine import make_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    eng = make_engine(write_store(tmp_path_factory.mktemp("matrix") / "m.sqlite"), create=False)
    yield eng
    eng.dispose()


def by_row(m) -> dict[tuple, dict]:
    return {(r["case"], r["method"], r["route"]): r for r in m.to_dict()["rows"]}


def test_verdicts_of_the_literal_store(engine):
    m = load_matrix(engine)
    assert m.implementations == [E, P]
    rows = by_row(m)
    inspect = rows[(None, "GET", "/containers/{name:.*}/json")]
    assert inspect["agree"] and inspect["verdict"] == "agree" and inspect["seen_by"] == 2
    assert inspect["observed"] == {E: {"404": 2}, P: {"404": 1}}
    wait = rows[("run-exit-3", "POST", "/containers/{name:.*}/wait")]
    assert not wait["agree"] and wait["differences"] == ["exit_codes"]
    assert wait["exit_codes"] == {E: {"3": 1}, P: {"0": 1}}
    attach = rows[("attach", "POST", "/containers/{name:.*}/attach")]
    assert attach["differences"] == ["codes", "stream_errors"]
    assert attach["stream_errors"] == {E: {}, P: {"200": 1}}
    info = rows[(None, "GET", "/info")]  # podman's /info was denied: not a server code
    assert info["verdict"] == "only_in" and info["agree"] and info["seen_by"] == 1
    assert info["only_in"] == E and info["not_seen_by"] == [P]
    assert (None, "GET", "/version") not in rows  # only a proxy-side failure
    assert ("run-exit-3#setup", "POST", "/containers/create") not in rows
    assert [r["verdict"] for r in m.to_dict()["rows"]] == ["differ", "differ", "agree", "only_in"]


def test_summary_counts_denied_and_failures_apart(engine):
    s = load_matrix(engine).summary
    assert (s["rows"], s["differ"], s["agree"], s["only_in"]) == (4, 2, 1, 1)
    assert s["implementations"][P] == {"exchanges": 5, "answered": 3, "denied": 1,
                                       "proxy_failed": 1, "passive_unknown_route": 0}
    assert s["pairs"] == [{"a": E, "b": P, "rows": 3, "agree": 1, "differ": 2,
                           "agreement": 0.3333}]
    assert s["verdict"] == "differ"


def test_setup_requests_only_when_asked(engine):
    rows = by_row(load_matrix(engine, include_setup=True))
    setup = rows[("run-exit-3#setup", "POST", "/containers/create")]
    assert setup["verdict"] == "only_in" and setup["observed"] == {E: {"201": 1}}


def test_documented_codes_per_implementation(engine):
    own = by_row(load_matrix(engine))  # engine: its OpenAPI table; podman: its own table
    wait = own[("run-exit-3", "POST", "/containers/{name:.*}/wait")]
    assert wait["documented"][E] == [200, 400, 404, 500] and wait["tables"][E] == ["spec-v1.41"]
    assert wait["documented"][P] == [200, 404, 500] and wait["tables"][P] == ["podman-v4.3.1"]
    attach = own[("attach", "POST", "/containers/{name:.*}/attach")]
    assert attach["undocumented"] == {E: [], P: [200]}  # Podman documents 101, not 200
    info = own[(None, "GET", "/info")]  # Podman never answered it: its documented codes anyway
    assert info["observed"] == {E: {"200": 1}} and P in info["documented"]
    seed = by_row(load_matrix(engine, against="seed"))  # the Docker column for both
    wait = seed[("run-exit-3", "POST", "/containers/{name:.*}/wait")]
    assert wait["documented"] == {E: [204, 404, 500], P: [204, 404, 500]}
    assert wait["undocumented"] == {E: [200], P: [200]}


def test_filters_and_selection(engine):
    m = load_matrix(engine, Filter(route="/json"))
    assert [r["verdict"] for r in m.to_dict()["rows"]] == ["agree"] and not m.has_differences
    assert not load_matrix(engine, Filter(target="engine")).enough_data
    assert load_matrix(engine, implementations=[P, E]).implementations == [P, E]
    with pytest.raises(UnknownImplementation, match="known in this store and filter: "
                       "'engine 20.10.24\\+dfsg1', 'podman 4.3.1'"):
        load_matrix(engine, implementations=["podman 9.9"])


def test_sql_aggregate_groups_outcomes(engine):
    df = load.matrix_counts(engine)
    assert int(df["count"].sum()) == 10  # the setup request left out in SQL
    assert df["stream_error"].sum() == 1 and df["denied"].sum() == 1
    assert df["status_code"].isna().sum() == 1


def test_verdict_rules():
    """Sets are compared, not counts; no exit status anywhere is no difference."""
    same = {"codes": {200: 5}, "exits": {}, "errors": {}}
    assert verdict({"a": same, "b": {**same, "codes": {200: 1}}}) == ("agree", [])
    assert verdict({"a": same}) == ("only_in", [])
    assert verdict({"a": same, "b": {**same, "exits": {0: 1}}}) == ("differ", ["exit_codes"])


def test_three_implementations_one_missing():
    """A row two of three answered: compared between those two, the third is named."""
    rows = [("engine", "20.10.24+dfsg1", 200), ("engine", "26.1.5+dfsg1", 200)]
    counts = pd.DataFrame([{
        "target": t, "target_version": v, "method": "GET", "route": "/info", "case": None,
        "api_version": "1.41", "status_code": c, "exit_code": None, "stream_error": False,
        "denied": False, "handler": "getInfo", "count": 1} for t, v, c in rows] + [{
        "target": "podman", "target_version": "4.3.1", "method": "GET", "route": "/_ping",
        "case": None, "api_version": "1.41", "status_code": 200, "exit_code": None,
        "stream_error": False, "denied": False, "handler": "ping", "count": 1}])
    m = build_matrix(counts)
    info = next(r for r in m.to_dict()["rows"] if r["route"] == "/info")
    assert info["verdict"] == "agree" and info["seen_by"] == 2
    assert info["not_seen_by"] == ["podman 4.3.1"]
    assert info["documented"] == {"engine 20.10.24+dfsg1": [], "engine 26.1.5+dfsg1": [],
                                  "podman 4.3.1": []}  # no documented tables given
    assert len(m.summary["pairs"]) == 3


def test_postgresql_gives_the_same_matrix(engine, pg_store):
    """The same SQL aggregate on PostgreSQL (SQLAlchemy Core only) gives the same matrix."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from dockdrift.db.models import Exchange

    pg = make_engine(pg_store)
    try:
        with Session(pg) as s, s.begin():
            s.execute(insert(Exchange), exchange_dicts())
        assert load_matrix(pg).to_dict() == load_matrix(engine).to_dict()
    finally:
        pg.dispose()


def test_two_implementations_sharing_no_request_decide_nothing():
    """Engine answered only /info, Podman only /_ping: two only_in rows, nothing compared."""
    counts = pd.DataFrame([{
        "target": t, "target_version": v, "method": "GET", "route": r, "case": None,
        "api_version": "1.41", "status_code": 200, "exit_code": None, "stream_error": False,
        "denied": False, "handler": None, "count": 1}
        for t, v, r in (("engine", "20.10.24+dfsg1", "/info"), ("podman", "4.3.1", "/_ping"))])
    m = build_matrix(counts)
    assert m.implementations == [E, P] and m.summary["only_in"] == 2
    assert not m.enough_data and m.summary["verdict"] == "not enough data"
    from dockdrift.render.matrix import verdict_line
    assert "no request was answered by two implementations" in verdict_line(m)
