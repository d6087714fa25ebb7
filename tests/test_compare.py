"""analysis.compare on the literal capture of report_helpers (its docstring says what differs)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from report_helpers import IMPLEMENTATION_ROWS, write_capture

from dockdrift.analysis import load
from dockdrift.analysis.against import documented_codes_for, with_documented
from dockdrift.analysis.compare import (AgainstError, compare, distribution, documented_for, make_report,
                              nearest_version, route_shape, swarm_vs_engine)
from dockdrift.db import tables
from dockdrift.db.documented import sync_documented
from dockdrift.db.engine import make_engine

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
    with pytest.raises(AgainstError, match=r"1\.40.*1\.25, 1\.41, 1\.45, 1\.51, 1\.52, 1\.55"):
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


# --- implementations: --against own / podman, and the interface the matrix calls -------------

UPDATE = "/containers/{name:.*}/update"


@pytest.fixture(scope="module")
def impl(tmp_path_factory):
    db = write_capture(tmp_path_factory.mktemp("impl") / "impl.sqlite", IMPLEMENTATION_ROWS)
    engine = make_engine(db, create=False)
    sync_documented(engine)
    # The rows are Podman 4.3.1's (its release picks its table); the report's aggregate has no
    # target_version, so it is given here as a capture of that release would carry it.
    observed = load.observed_counts(engine)
    observed["target_version"] = observed["target"].map({"podman": "4.3.1"}).astype(object)
    out = {"observed": observed, "documented": load.documented_codes(engine)}
    engine.dispose()
    return out


def _without(documented: pd.DataFrame, version: str) -> pd.DataFrame:
    """The documented frame without one Podman table (tests written when 4.3.1 was the only)."""
    return documented[~((documented.source == "podman") & (documented.api_version == version))]


def test_route_shape_ignores_podman_one_segment_variables():
    assert route_shape("/containers/{name}/json") == route_shape("/containers/{name:.*}/json")
    assert route_shape("/exec/{id}/start") == route_shape("/exec/{execid:.*}/start")


def test_against_own_uses_each_implementations_table(impl):
    r = rows_by_key(compare(impl["observed"], impl["documented"], "own"))
    assert r[("podman", "GET", JSON)].tables == ("podman-v4.3.1",)
    assert r[("podman", "GET", JSON)].documented == (200, 404, 500)
    info = r[("podman", "GET", "/libpod/info")]
    assert info.in_table and info.undocumented == () and info.documented == (200, 500)
    update = r[("podman", "POST", UPDATE)]  # Podman has no compat update: not in its table
    assert not update.in_table and update.undocumented == (404,)
    ping = r[("podman", "HEAD", "/_ping")]  # registered, but no swagger block documents it
    assert not ping.in_table and ping.undocumented == (200,)
    assert r[("engine", "GET", JSON)].tables == ("spec-v1.45",)
    swarm = r[("swarm", "POST", START)]
    assert swarm.tables == ("seed-v1.22",) and swarm.undocumented == (304,)  # Swarm column
    unknown = r[("unknown", "GET", "/info")]
    assert unknown.tables == ("seed-v1.22",) and unknown.documented == (200, 500)


def test_against_podman_compares_everything_with_podmans_table(impl):
    r = rows_by_key(compare(impl["observed"], _without(impl["documented"], "5.8.3"), "podman"))
    assert {row.tables for row in r.values()} == {("podman-v4.3.1",)}
    assert r[("engine", "GET", JSON)].undocumented == ()
    assert r[("swarm", "POST", START)].documented == (204, 304, 404, 500)  # Podman's start
    assert r[("unknown", "GET", "/info")].in_table
    fixed = rows_by_key(compare(impl["observed"], impl["documented"], "podman:4.3.1"))
    assert fixed[("podman", "GET", "/libpod/info")].undocumented == ()
    seed = rows_by_key(compare(impl["observed"], impl["documented"], "seed"))  # unchanged rules
    assert not seed[("podman", "GET", "/libpod/info")].in_table
    assert seed[("podman", "GET", JSON)].tables == ("seed-v1.22",)


def test_report_summary_counts_podmans_table(impl):
    rep = make_report(impl["observed"], impl["documented"], impl["observed"].iloc[0:0],
                      impl["observed"].iloc[0:0].assign(error=None), "own")
    pod = rep.summary["targets"]["podman"]
    assert pod["tables"] == ["podman-v4.3.1"]
    assert pod["routes_documented"] == 166  # the README's count of routes with codes
    assert pod["routes_exercised"] == 2  # json and /libpod/info


def test_with_documented_is_the_matrix_interface():
    frame = pd.DataFrame({
        "target": ["podman", "engine", "swarm", "podman", None, "engine"],
        "target_version": ["4.3.1", "26.1.5", "1.2.9", "4.3.1", None, "20.10.24"],
        "api_version": ["1.41", "1.45", "1.22", "4.3.1", "1.41", "1.41"],
        "method": ["GET", "GET", "POST", "GET", "GET", "GET"],
        "route": [JSON, JSON, START, "/libpod/info", "/info", None],
        "extra": list("abcdef"),
    }, index=[10, 11, 12, 13, 14, 15])
    out = with_documented(frame)
    assert list(out.index) == [10, 11, 12, 13, 14, 15] and list(out["extra"]) == list("abcdef")
    assert list(out["table"]) == ["podman-v4.3.1", "spec-v1.45", "seed-v1.22", "podman-v4.3.1",
                                  "seed-v1.22", "spec-v1.41"]
    assert list(out["documented"]) == [(200, 404, 500), (200, 404, 500), (204, 404, 500),
                                       (200, 500), (200, 500), ()]
    assert list(out["in_table"]) == [True, True, True, True, True, False]
    assert not out["absent"].any()
    spec = with_documented(frame[["target", "method", "route"]], "spec:1.25")  # columns optional
    assert set(spec["table"]) == {"spec-v1.25"}
    with pytest.raises(AgainstError, match="available versions: 4.3.1, 5.8.3"):
        with_documented(frame, "podman:9.9")


def test_documented_codes_for_one_request():
    assert documented_codes_for("podman", "4.3.1", "1.41", "GET", JSON) == (200, 404, 500)
    assert documented_codes_for("podman", "4.3.1", "1.41", "POST", UPDATE) == ()
    assert documented_codes_for("engine", None, "1.41", "POST", UPDATE) == (200, 404, 500)
    assert documented_codes_for("swarm", None, "1.22", "POST", START) == (204, 404, 500)
    assert documented_codes_for("engine", None, "1.41", "GET", "/images/viz", "seed") == ()


def test_podman_table_follows_the_target_version(impl):
    """With two Podman tables, `own` picks the one at or below the exchange's target_version."""
    docs = _without(impl["documented"], "5.8.3")
    newer = docs[docs.source == "podman"].assign(api_version="4.9.0")
    newer = newer[~((newer.route == "/libpod/info") & (newer.status_code == 500))]
    documented = pd.concat([docs, newer], ignore_index=True)
    frame = pd.DataFrame({"target": "podman", "target_version": ["4.3.1", "5.0.0", None, "4.0"],
                          "method": "GET", "route": "/libpod/info"})
    out = with_documented(frame, "own", documented)
    assert list(out["table"]) == ["podman-v4.3.1", "podman-v4.9.0", "podman-v4.9.0",
                                  "podman-v4.3.1"]
    assert list(out["documented"]) == [(200, 500), (200,), (200,), (200, 500)]
    observed = impl["observed"].assign(target_version="5.0.0")
    r = rows_by_key(compare(observed, documented, "podman"))
    assert r[("podman", "GET", "/libpod/info")].tables == ("podman-v4.9.0",)


def test_unknown_against_lists_own_and_podman(frames):
    with pytest.raises(AgainstError, match="own, podman or podman:VERSION"):
        documented_for(frames["observed"], frames["documented"], "docker")


def test_against_own_picks_the_newest_tables_at_or_below_each_release(impl):
    """Engine 28.5 without /vX.Y -> spec-v1.51 (its release's API), at /v1.44 -> spec-v1.41;
    Podman 5.8.6 -> podman-v5.8.3 (5.8.4-5.8.6 changed no route), Podman 4.3.1 -> its own."""
    frame = pd.DataFrame({
        "target": ["engine", "engine", "engine", "podman", "podman", "engine"],
        "target_version": ["28.5.2+dfsg4", "28.5.2+dfsg4", "26.1.5+dfsg1", "5.8.6", "4.3.1", None],
        "api_version": [None, "1.44", None, None, "1.41", None],
        "method": "POST", "route": UPDATE})
    out = with_documented(frame, "own", impl["documented"])
    assert list(out["table"]) == ["spec-v1.51", "spec-v1.41", "spec-v1.45", "podman-v5.8.3",
                                  "podman-v4.3.1", "spec-v1.55"]
    assert list(out["documented"])[3:5] == [(200, 404, 500), ()]  # Podman 5 added compat update
