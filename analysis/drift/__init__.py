"""Drift: what changed in the answers between a baseline and a current window.

Public: the statistics in `stats` (re-exported here: `find_drift`, `DriftParams`,
`Suppression`, `route_counts`, `g_test`, `chi2_sf`, `adjust`, `documented_sets`); `run`
(`compare_windows(engine, b_engine, DriftQuery, now) -> DriftOutcome`: one comparison, what
the `drift` command calls); `store` (`Window`, window aggregates, timelines, saved runs);
`config` (the `[drift]` section of dockdrift.toml); `gaps` (recording gaps); `plots`
(share timelines, findings per saved run). Import those modules by name: only `stats` loads
with the package.
"""

from dockdrift.analysis.drift.stats import (
    COUNT_COLUMNS,
    CORRECTIONS,
    FINDING_COLUMNS,
    KEYS,
    KINDS,
    DriftParams,
    Suppression,
    adjust,
    chi2_sf,
    documented_sets,
    excluded,
    find_drift,
    g_test,
    route_counts,
)

__all__ = ["COUNT_COLUMNS", "CORRECTIONS", "FINDING_COLUMNS", "KEYS", "KINDS", "DriftParams",
           "Suppression", "adjust", "chi2_sf", "documented_sets", "excluded", "find_drift",
           "g_test", "route_counts"]
