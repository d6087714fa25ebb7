"""analysis.compare on the literal capture of report_helpers (its docstring says what differs)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from report_helpers import write_capture

from analysis import load
from analysis.compare import (AgainstError, compare, distribution, documented_for, make_report,
                              nearest_version, route_shape, swarm_vs_engine)
from db import tables
from db.documented import sync_documented
from db.engine import make_engine

JSON = "/containers/{name:.*}/json"
WAIT = "/containers/{name:.*}/wait"
START = "/containers/{name:.*}/start"


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    db = write_capture(tmp_path_factory.mktemp("cmp") / "literal.sqlite")
    engine = make_engine(db, create=False)
    sync_documented(engine)
    out = {"observed": load.observed_counts(engine), "documented": load.documented_codes(engine),
           "unknown": load.unknown_routes(engine), "failures": load.proxy_failures(engine)}
    engine.dispose()
    return out


def rows_by_key(df: pd.DataFrame) -> dict:
    return {(r.target, r.method, r.route): r for r in df.itertuples()}


def test_route_shape_ignores_variable_names_and_patterns():
    assert route_shape("/volumes/{volumename:.*}") == route_shape("/volumes/{name:.*}")
    assert route_shape("/networks/{networkid:.*}") == route_shape("/networks/{id:.+}")
    assert route_shape("/containers/{name:.*}/json") == "/containers/{}/json"
    assert route_shape("/containers/json") == "/containers/json"


def test_nearest_version_rules():
    versions = ["1.25", "1.41", "1.52", "1.55"]
    assert nearest_version("1.41", versions) == "1.41"
    assert nearest_version("1.43", versions) == "1.41"
    assert nearest_version("1.9", versions) == "1.25"  # 1.9 < 1.25 numerically
    assert nearest_version("1.24", versions) == "1.25"  # older than every table: the oldest
    assert nearest_version(None, versions) == "1.55"  # unknown version: the newest
    assert nearest_version("2.0", versions) == "1.55"


def test_distribution_counts_and_shares(frames):
    d = distribution(frames["observed"])
    sel = d[(d.target == "engine") & (d.route == JSON)].set_index("status_code")
    assert sel["count"].to_dict() == {200: 3, 404: 1}
    assert sel["share"].to_dict() == {200: 0.75, 404: 0.25}
    assert set(d.loc[d.route.isna(), "status_code"]) == {404}  # the unknown route
    assert "unknown" in set(d.target)  # NULL target is labelled, not dropped


def test_compare_against_seed(frames):
    r = rows_by_key(compare(frames["observed"], frames["documented"], "seed"))
    json_row = r[("engine", "GET", JSON)]
    assert json_row.observed == {200: 3, 404: 1}
    assert json_row.documented == (200, 404, 500)
    assert json_row.undocumented == () and json_row.unobserved == (500,)
    assert json_row.coverage == pytest.approx(2 / 3)
    wait = r[("engine", "POST", WAIT)]
    assert (wait.observed, wait.documented, wait.undocumented) == ({200: 3}, (204, 404, 500),
                                                                   (200,))
    assert wait.coverage == 0
    assert r[("engine", "POST", START)].undocumented == ()  # 304 is in the Docker column
    viz = r[("engine", "GET", "/images/viz")]  # n/a + 404: consistent
    assert viz.absent and viz.documented == () and viz.undocumented == ()
    assert math.isnan(viz.coverage)
    assert r[("engine", "GET", "/containers/ps")].undocumented == (200,)  # n/a + 200
    ping = r[("engine", "HEAD", "/_ping")]
    assert not ping.in_table and ping.undocumented == (200,)
    assert r[("engine", "GET", "/volumes/{volumename:.*}")].undocumented == ()
    swarm_json = r[("swarm", "GET", JSON)]  # Swarm column: 200 404 500
    assert swarm_json.undocumented == () and swarm_json.unobserved == (404,)
    assert r[("swarm", "POST", START)].undocumented == (304,)  # Swarm column: 204 404 500
    assert r[("unknown", "GET", "/info")].documented == (200, 500)  # Docker column
    assert not any(pd.isna(k[2]) for k in r)  # unknown routes are not route rows


def test_compare_against_spec_picks_the_version_per_exchange(frames):
    r = rows_by_key(compare(frames["observed"], frames["documented"], "spec"))
    wait = r[("engine", "POST", WAIT)]
    assert wait.undocumented == () and wait.tables == ("spec-v1.25", "spec-v1.41")
    ping = r[("engine", "HEAD", "/_ping")]
    assert ping.tables == ("spec-v1.55",) and ping.undocumented == ()
    vol = r[("engine", "GET", "/volumes/{volumename:.*}")]  # seed template, spec {name:.*}
    assert vol.in_table and vol.undocumented == ()
    assert r[("engine", "GET", "/images/viz")].undocumented == (404,)  # spec has no viz
    assert r[("swarm", "POST", START)].undocumented == ()  # swarm vs the Engine spec: 304 ok
    fixed = rows_by_key(compare(frames["observed"], frames["documented"], "spec:1.41"))
    assert fixed[("engine", "POST", WAIT)].tables == ("spec-v1.41",)
    assert fixed[("engine", "HEAD", "/_ping")].tables == ("spec-v1.41",)


def test_unknown_spec_version_lists_the_available_ones(frames):
    with pytest.raises(AgainstError, match=r"1\.40.*1\.25, 1\.41, 1\.45, 1\.52, 1\.55"):
        documented_for(frames["observed"], frames["documented"], "spec:1.40")
    with pytest.raises(AgainstError, match="seed, spec or spec:VERSION"):
        documented_for(frames["observed"], frames["documented"], "swagger")


def test_swarm_vs_engine_side_by_side(frames):
    sve = swarm_vs_engine(frames["observed"]).set_index(["method", "route"])
    assert set(sve.index) == {("GET", JSON), ("POST", START)}
    j = sve.loc[("GET", JSON)]
    assert j.engine == {200: 3, 404: 1} and j.swarm == {200: 2, 500: 1}
    assert j.only_engine == (404,) and j.only_swarm == (500,) and not j.same_codes
    assert sve.loc[("POST", START)].same_codes


def test_report_summary_and_json_shape(frames):
    rep = make_report(frames["observed"], frames["documented"], frames["unknown"],
                      frames["failures"], "seed")
    s = rep.summary
    assert rep.has_undocumented and s["undocumented_codes"] == 4
    assert s["undocumented_exchanges"] == 3 + 1 + 1 + 1  # wait 200×3, ps, _ping, swarm 304
    assert s["answered"] == 18 and s["proxy_failed"] == 1
    assert s["proxy_failures"] == [{"target": "engine", "method": "GET",
                                    "route": "/containers/json",
                                    "error": "connection refused", "count": 1}]
    assert s["unknown_routes"] == [{"target": "engine", "method": "GET", "status_code": 404,
                                    "count": 1, "examples": ["/v1.41/nope"]}]
    eng = s["targets"]["engine"]
    seed_engine_routes = [r for r in tables.read_seed() if r.engine_codes]
    assert eng["routes_documented"] == len(seed_engine_routes)
    assert eng["routes_exercised"] == 4  # json, wait, start, volumes (viz/ps are n/a)
    assert eng["codes_observed"] == 4  # json 200 404, start 304, volumes 404
    assert "GET /info" in eng["never_exercised"]
    assert f"GET {JSON}" not in eng["never_exercised"]
    assert s["targets"]["unknown"]["routes_exercised"] == 1
    d = rep.to_dict()
    assert set(d) == {"routes", "summary"}
    first = d["routes"][0]
    assert list(first) == ["target", "method", "route", "handler", "observed", "documented",
                           "undocumented", "unobserved"]
    wait = next(x for x in d["routes"] if x["route"] == WAIT)
    assert wait["observed"] == {"200": 3} and wait["undocumented"] == [200]
    assert all(isinstance(c, int) for c in wait["documented"])


def test_report_without_undocumented_codes(frames):
    obs = frames["observed"]
    only_json = obs[(obs.route == JSON) & (obs.target == "engine")]
    rep = make_report(only_json, frames["documented"], frames["unknown"].iloc[0:0],
                      frames["failures"].iloc[0:0], "seed")
    assert not rep.has_undocumented and rep.summary["undocumented_codes"] == 0
