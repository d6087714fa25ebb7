"""Draw samples to measure the drift tests' false-alarm rate and power at the defaults.

Two windows drawn from the same multinomial must (almost) never be flagged; a real shift with a
few hundred requests must be. The measured rates are printed (pytest -s) and recorded as junit
properties; the closing note of issue 4 quotes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dockdrift.analysis.drift import KEYS, DriftParams, find_drift

SEED = 20261126
TRIALS = 400  # runs of the null scenario (x 8 routes)
POWER_TRIALS = 200
# Realistic per-route code mixes, rare codes included (they stress the new/vanished tests).
NULL_ROUTES: dict[tuple[str, str, str], dict[int, float]] = {
    ("engine", "GET", "/containers/{name:.*}/json"): {200: 0.90, 404: 0.10},
    ("engine", "POST", "/containers/create"): {201: 0.80, 404: 0.12, 409: 0.06, 500: 0.02},
    ("engine", "POST", "/containers/{name:.*}/start"): {204: 0.93, 304: 0.05, 500: 0.02},
    ("engine", "GET", "/_ping"): {200: 0.999, 500: 0.001},
    ("engine", "DELETE", "/containers/{name:.*}"): {204: 0.7, 404: 0.2, 409: 0.097, 500: 0.003},
    ("engine", "GET", "/images/{name:.*}/json"): {200: 0.5, 404: 0.5},
    ("swarm", "GET", "/containers/{name:.*}/json"): {200: 0.85, 404: 0.149, 500: 0.001},
    ("engine", "POST", "/exec/{name:.*}/start"): {101: 0.6, 200: 0.395, 404: 0.005},
}


def _table(counts: dict[tuple, np.ndarray], mixes: dict[tuple, dict[int, float]]) -> pd.DataFrame:
    rows = [(*key, code, int(n)) for key, arr in counts.items()
            for code, n in zip(mixes[key], arr, strict=True) if n]
    names = [*KEYS, "status_code", "count"]
    columns = map(list, zip(*rows, strict=True))
    return pd.DataFrame(dict(zip(names, columns, strict=False)), columns=names)


def _draw(rng: np.random.Generator, mixes: dict[tuple, dict[int, float]],
          sizes: dict[tuple, int]) -> pd.DataFrame:
    return _table({k: rng.multinomial(sizes[k], list(m.values())) for k, m in mixes.items()},
                  mixes)


def _sizes(rng: np.random.Generator) -> dict[tuple, int]:
    """Per-route window sizes, log-uniform in 50..5000 and independent between windows."""
    return {k: int(np.exp(rng.uniform(np.log(50), np.log(5000)))) for k in NULL_ROUTES}


def _flagged(findings: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, findings[KEYS].drop_duplicates().to_numpy()))


def _simulate(rng: np.random.Generator, base_mix: dict, cur_mix: dict, fixed: dict[tuple, int],
              params: DriftParams, trials: int = POWER_TRIALS) -> tuple[int, int, int]:
    """(null routes flagged, null routes tested, shifted routes found) over `trials` runs."""
    false, found = 0, 0
    for _ in range(trials):
        sb, sc = _sizes(rng) | fixed, _sizes(rng) | fixed
        flagged = _flagged(find_drift(_draw(rng, base_mix, sb), _draw(rng, cur_mix, sc), params))
        false += len(flagged - set(fixed))
        found += len(flagged & set(fixed))
    return false, trials * (len(base_mix) - len(fixed)), found


def test_false_alarm_rate_same_distribution_under_one_percent(record_property) -> None:
    rng = np.random.default_rng(SEED)
    false, tested, _ = _simulate(rng, NULL_ROUTES, NULL_ROUTES, {}, DriftParams(), TRIALS)
    rate = false / tested
    print(f"\nfalse-alarm rate per route: {false}/{tested} = {rate:.4%} "
          f"({TRIALS} runs x {len(NULL_ROUTES)} routes, 50..5000 per window, defaults)")
    record_property("false_alarm_rate_per_route", rate)
    assert rate < 0.01


def test_false_alarms_without_correction_stay_near_alpha(record_property) -> None:
    """Per-test validity: even uncorrected, each route's false-alarm rate stays near alpha."""
    rng = np.random.default_rng(SEED + 1)
    false, tested, _ = _simulate(rng, NULL_ROUTES, NULL_ROUTES, {},
                                 DriftParams(correction="none"))
    rate = false / tested
    print(f"\nuncorrected false-alarm rate per route: {rate:.4%}")
    record_property("false_alarm_rate_uncorrected", rate)
    assert rate < 0.03


SHIFT_KEY = ("engine", "GET", "/containers/{name:.*}/json")
NEW_KEY = ("engine", "POST", "/containers/create")


@pytest.mark.parametrize("n", [200, 300])
def test_power_404_share_10_to_55_percent(n: int, record_property) -> None:
    rng = np.random.default_rng(SEED + n)
    current = NULL_ROUTES | {SHIFT_KEY: {200: 0.45, 404: 0.55}}
    false, tested, found = _simulate(rng, NULL_ROUTES, current, {SHIFT_KEY: n}, DriftParams())
    print(f"\npower, 404 share 10% -> 55%, n={n} per window: {found}/{POWER_TRIALS} = "
          f"{found / POWER_TRIALS:.1%}; false alarms on the other routes: {false}/{tested}")
    record_property(f"power_share_shift_n{n}", found / POWER_TRIALS)
    assert found / POWER_TRIALS > 0.95
    assert false / tested < 0.01


@pytest.mark.parametrize("n", [300, 500])
def test_power_new_409_at_five_percent(n: int, record_property) -> None:
    rng = np.random.default_rng(SEED + 7 * n)
    base = NULL_ROUTES | {NEW_KEY: {201: 0.88, 404: 0.12, 409: 0.0}}
    current = NULL_ROUTES | {NEW_KEY: {201: 0.83, 404: 0.12, 409: 0.05}}
    false, tested, found = _simulate(rng, base, current, {NEW_KEY: n}, DriftParams())
    print(f"\npower, a 409 appearing at 5%, n={n} per window: {found}/{POWER_TRIALS} = "
          f"{found / POWER_TRIALS:.1%}; false alarms on the other routes: {false}/{tested}")
    record_property(f"power_new_code_n{n}", found / POWER_TRIALS)
    assert found / POWER_TRIALS > (0.95 if n >= 500 else 0.8)


def test_chi2_sf_matches_scipy() -> None:
    """The drift p-values use a small chi-square survival function instead of importing scipy."""
    from scipy.special import chdtrc

    from dockdrift.analysis.drift import chi2_sf

    for dof in (1, 2, 3, 5, 8, 13):
        for x in (0.0, 0.01, 0.5, 1.0, 3.84, 10.0, 42.0, 150.0, 700.0):
            expected = float(chdtrc(dof, x))
            got = chi2_sf(dof, x)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-300), (dof, x)
