"""Pure parts of drift: time/window parsing, config, findings from literal count tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dockdrift.analysis.drift.config import load_config
from dockdrift.analysis.drift import DriftParams, Suppression, adjust, find_drift, route_counts
from dockdrift.analysis.timeparse import parse_duration, parse_time, parse_window
from dockdrift.errors import UsageError

NOW = datetime(2026, 11, 26, 12, 0, 0)


@pytest.mark.parametrize("text, expected", [
    ("now", NOW),
    ("7d", NOW - timedelta(days=7)),
    ("-7d", NOW - timedelta(days=7)),
    ("7d ago", NOW - timedelta(days=7)),
    ("1d6h", NOW - timedelta(days=1, hours=6)),
    ("90m", NOW - timedelta(minutes=90)),
    ("2w", NOW - timedelta(weeks=2)),
    ("1.5h", NOW - timedelta(minutes=90)),
    ("2026-11-20", datetime(2026, 11, 20)),
    ("2026-11-20T10:30", datetime(2026, 11, 20, 10, 30)),
    ("2026-11-20T10:30:00Z", datetime(2026, 11, 20, 10, 30)),
    ("2026-11-20T10:30:00+01:00", datetime(2026, 11, 20, 9, 30)),
    (" 2026-11-20 10:30:05 ", datetime(2026, 11, 20, 10, 30, 5)),
])
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "7x", "d7", "2026-13-01", "7d..1d"])
def test_parse_time_rejects_with_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="time"):
        parse_time(text, NOW)


def test_parse_duration() -> None:
    assert parse_duration("1w2d3h4m5s") == timedelta(weeks=1, days=2, hours=3, minutes=4,
                                                       seconds=5)
    with pytest.raises(UsageError, match="duration"):
        parse_duration("soon")


@pytest.mark.parametrize("text, expected", [
    ("7d..1d", (NOW - timedelta(days=7), NOW - timedelta(days=1))),
    ("1d..now", (NOW - timedelta(days=1), NOW)),
    ("2026-11-20..2026-11-21T00:00Z", (datetime(2026, 11, 20), datetime(2026, 11, 21))),
    ("3h..", (NOW - timedelta(hours=3), None)),
    ("..2026-11-20", (None, datetime(2026, 11, 20))),
    ("..", (None, None)),
])
def test_parse_window(text: str, expected: tuple) -> None:
    assert parse_window(text, NOW) == expected


@pytest.mark.parametrize("text, match", [
    ("7d", "START..END"),
    ("1d..7d", "not before"),
    ("now..now", "not before"),
    ("7d..later", "bad time"),
])
def test_parse_window_rejects(text: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        parse_window(text, NOW)


# --- findings on literal count tables -------------------------------------------------------

INSPECT = ("engine", "GET", "/containers/{name:.*}/json")
CREATE = ("engine", "POST", "/containers/create")
PING = ("engine", "GET", "/_ping")


def table(rows: dict[tuple, dict[int, int]]) -> pd.DataFrame:
    return pd.DataFrame([(*k, code, n) for k, codes in rows.items() for code, n in codes.items()],
                        columns=["target", "method", "route", "status_code", "count"])


def kinds(findings: pd.DataFrame) -> list[tuple]:
    return [(r.route, r.kind, r.code) for r in findings.itertuples()]


def test_new_code_with_its_exact_binomial_p_value() -> None:
    """409 absent from 400 baseline calls, 20 of 300 current: P = (300/700)^20 before Holm."""
    base = table({CREATE: {201: 400}, PING: {200: 50}})
    cur = table({CREATE: {201: 280, 409: 20}, PING: {200: 50}})
    f = find_drift(base, cur)
    assert kinds(f) == [("/containers/create", "new_code", 409)]
    row = f.iloc[0]
    assert row.p_value == pytest.approx((300 / 700) ** 20)
    assert (row.baseline_count, row.current_count, row.current_share) == (0, 20, 20 / 300)


def test_vanished_code_needs_enough_expected_count() -> None:
    base = table({CREATE: {201: 300, 409: 30}})
    assert kinds(find_drift(base, table({CREATE: {201: 300}}))) == [
        ("/containers/create", "vanished_code", 409)]
    # 30 of 330 is 9%; 20 current calls expect ~2: their absence is not evidence
    assert find_drift(base, table({CREATE: {201: 20}})).empty


def test_share_shift_needs_significance_and_effect() -> None:
    base = table({INSPECT: {200: 90, 404: 10}})
    shifted = find_drift(base, table({INSPECT: {200: 45, 404: 55}}))
    assert kinds(shifted) == [("/containers/{name:.*}/json", "share_shift", 404)]
    assert shifted.iloc[0].effect == pytest.approx(0.45)
    assert shifted.iloc[0].dof == 1
    # huge samples, 10% -> 11%: significant, but below the 0.1 distance floor
    big = find_drift(table({INSPECT: {200: 900_000, 404: 100_000}}),
                     table({INSPECT: {200: 890_000, 404: 110_000}}))
    assert big.empty
    assert not find_drift(table({INSPECT: {200: 900_000, 404: 100_000}}),
                          table({INSPECT: {200: 890_000, 404: 110_000}}),
                          DriftParams(min_effect=0.005)).empty


def test_small_windows_are_not_tested() -> None:
    assert find_drift(table({INSPECT: {200: 25, 404: 3}}),
                      table({INSPECT: {200: 5, 404: 20}})).empty


def test_rare_codes_are_merged_before_the_g_test() -> None:
    """A 500 seen twice must not make the 2 x k table's asymptotics wrong: merged, not a bin."""
    base = table({INSPECT: {200: 180, 404: 20, 500: 2}})
    cur = table({INSPECT: {200: 178, 404: 22, 503: 1}})
    assert find_drift(base, cur).empty


def test_suppressions_and_ignored_routes() -> None:
    base = table({CREATE: {201: 400}, INSPECT: {200: 90, 404: 10}})
    cur = table({CREATE: {201: 280, 409: 20}, INSPECT: {200: 45, 404: 55}})
    assert len(find_drift(base, cur)) == 2
    params = DriftParams(suppress=(Suppression("/containers/create", (409,), "engine"),),
                         ignore_routes=("/containers/*/json",))
    assert find_drift(base, cur, params).empty
    other_target = DriftParams(suppress=(Suppression("/containers/create", (409,), "swarm"),))
    assert ("/containers/create", "new_code", 409) in kinds(find_drift(base, cur, other_target))


def test_newly_undocumented_is_a_new_code_outside_the_table() -> None:
    base, cur = table({CREATE: {201: 400}}), table({CREATE: {201: 280, 418: 20}})
    doc = {CREATE: frozenset({201, 400, 404, 409, 500})}
    f = find_drift(base, cur, documented=doc)
    assert kinds(f) == [("/containers/create", "newly_undocumented", 418)]
    assert f.iloc[0].documented == [201, 400, 404, 409, 500]
    cur409 = table({CREATE: {201: 280, 409: 20}})
    assert kinds(find_drift(base, cur409, documented=doc)) == [
        ("/containers/create", "new_code", 409)]


def test_route_counts_drops_unknown_routes_and_proxy_failures() -> None:
    observed = pd.DataFrame(
        [("engine", "GET", "/_ping", "ping", "1.41", 200, 5),
         ("engine", "GET", "/_ping", "ping", "1.25", 200, 2),
         ("engine", "GET", "/_ping", "ping", "1.41", None, 3),
         ("engine", "GET", None, None, None, 404, 9),
         (None, "GET", "/_ping", "ping", "1.41", 200, 1)],
        columns=["target", "method", "route", "handler", "api_version", "status_code", "count"])
    assert route_counts(observed).values.tolist() == [
        ["engine", "GET", "/_ping", 200, 7], ["unknown", "GET", "/_ping", 200, 1]]


def test_adjust_matches_hand_computed_corrections() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.002])
    assert adjust(p, "bonferroni").tolist() == pytest.approx([0.04, 0.16, 0.12, 0.008])
    assert adjust(p, "holm").tolist() == pytest.approx([0.03, 0.06, 0.06, 0.008])
    assert adjust(p, "bh").tolist() == pytest.approx([0.02, 0.04, 0.04, 0.008])
    assert adjust(p, "none").tolist() == p.tolist()


# --- config -------------------------------------------------------------------------------

CONFIG = """
[drift]
alpha = 0.001
min_count = 3
min_effect = 0.2
correction = "bh"
baseline = "14d..7d"
ignore_routes = ["/events"]

[[drift.suppress]]
route = "/containers/{name:.*}/stop"
codes = [304]
target = "engine"
"""


def test_config_from_dockdrift_toml(tmp_path) -> None:
    (tmp_path / "dockdrift.toml").write_text(CONFIG)
    cfg = load_config(cwd=tmp_path)
    p = cfg.params
    assert (p.alpha, p.min_count, p.min_effect, p.correction, p.min_total) == (
        0.001, 3, 0.2, "bh", 30)
    assert p.ignore_routes == ("/events",)
    assert p.suppress == (Suppression("/containers/{name:.*}/stop", (304,), "engine"),)
    assert cfg.options == {"baseline": "14d..7d"}


def test_config_from_pyproject_tool_section(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.dockdrift.drift]\nmin_total = 100\n')
    assert load_config(cwd=tmp_path).params.min_total == 100
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(cwd=tmp_path).params == DriftParams()


@pytest.mark.parametrize("text, match", [
    ("[drift]\nalpah = 0.1\n", "unknown key .drift. alpah"),
    ("[drift]\nalpha = 2\n", "alpha must be a number"),
    ("[drift]\nmin_count = 2.5\n", "min_count must be an integer"),
    ("[drift]\ncorrection = 'sidak'\n", "correction must be one of"),
    ("[drift]\nignore_routes = '/events'\n", "ignore_routes must be a list"),
    ("[[drift.suppress]]\ncodes = [404]\n", "needs route"),
    ("[[drift.suppress]]\nroute = '/x'\ncodes = [4040]\n", "codes must be a list"),
    ("[drift\n", "not valid TOML"),
])
def test_bad_config_is_one_clear_usage_error(tmp_path, text: str, match: str) -> None:
    (tmp_path / "dockdrift.toml").write_text(text)
    with pytest.raises(UsageError, match=match):
        load_config(cwd=tmp_path)


def test_explicit_config_must_exist(tmp_path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"), cwd=tmp_path)
