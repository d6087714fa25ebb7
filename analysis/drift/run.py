"""One drift comparison as an analysis API: two windows counted in SQL, compared, judged.

`compare_windows` is what `dockdrift drift` (and its `--by recorder` sections) call once the
flags and the config are resolved into a `DriftQuery`; it returns the JSON-shaped result the
renderers take. No flags, no printing: the windows read from the daily rollups come back in
`DriftOutcome.from_rollups` for the command to say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dockdrift.analysis.background import background
from dockdrift.analysis.drift.stats import DriftParams
from dockdrift.analysis.drift.store import Window, window_aggregates, window_filter, window_info
from dockdrift.analysis.load import Filter

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine


@dataclass(frozen=True)
class DriftQuery:
    """What to compare: two windows, the exchanges in both (`base`), the thresholds."""

    baseline: Window
    current: Window
    base: Filter = field(default_factory=Filter)
    params: DriftParams = field(default_factory=DriftParams)
    against: str = "seed"
    max_gap: timedelta | None = None


@dataclass
class DriftOutcome:
    """`result`: findings, both windows' info, `insufficient`, `untested_routes`, `dockdrift`
    (the JSON document); `from_rollups`: windows ("baseline", "current") read from rollups."""

    result: dict[str, Any]
    from_rollups: list[str]


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def records(findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts (plain ints/floats, None for not-applicable numbers)."""
    return [{k: _plain(v) for k, v in row.items()} for row in findings.to_dict("records")]


def compare_windows(engine: Engine, b_engine: Engine, q: DriftQuery,
                    now: datetime) -> DriftOutcome:
    """Run the comparison (`b_engine` holds the baseline, `engine` the current window).

    Raises AgainstError for an unknown documented table.
    """
    from dockdrift.analysis.drift.stats import documented_sets, find_drift, route_counts
    from dockdrift.analysis.load import reads_rollups
    from dockdrift.analysis.outcomes.drift import window_candidates
    from dockdrift.analysis.report import documented_frame
    from dockdrift.analysis.shapes.drift import window_shape_candidates
    from dockdrift.db.version import version_info

    base, baseline, current, params = q.base, q.baseline, q.current, q.params
    # The two windows (and the gap scan) at once: SQLite releases the GIL; WAL readers do not
    # block each other.
    b_counts = background(window_aggregates, b_engine, baseline, base)
    gaps = background(_gap_findings, engine, window_filter(current, base), q.max_gap, now)
    c_obs, c_failed = window_aggregates(engine, current, base)
    b_obs, b_failed = b_counts()
    rollups = [name for name, e, w in (("baseline", b_engine, baseline),
                                       ("current", engine, current))
               if reads_rollups(e, window_filter(w, base))]
    doc = documented_sets(c_obs, documented_frame(engine), q.against)
    b_routes, c_routes = route_counts(b_obs), route_counts(c_obs)
    extra = window_candidates(b_engine, baseline, engine, current, params, base)
    extra += window_shape_candidates(b_engine, baseline, engine, current, params, base)
    findings = find_drift(b_routes, c_routes, params, doc, extra)
    result = {"findings": records(findings) + gaps(),
              "baseline": window_info(b_engine, baseline, b_obs, b_failed, base),
              "current": window_info(engine, current, c_obs, c_failed, base)}
    result |= _sufficiency(result, (b_engine, engine), (baseline, current), base, params,
                           (b_routes, c_routes)) | {"dockdrift": version_info()}
    return DriftOutcome(result, rollups)


def _gap_findings(engine: Engine, flt: Filter, max_gap: timedelta | None,
                  now: datetime) -> list[dict]:
    from dockdrift.analysis.drift.gaps import gap_finding, recording_gaps

    if max_gap is None:
        return []
    return [gap_finding(a, b, max_gap, flt, flt.until, now)
            for a, b in recording_gaps(engine, flt, max_gap, now)]


def _sufficiency(result: dict, engines: tuple, windows: tuple[Window, Window], base: Filter,
                 params: DriftParams, routes: tuple) -> dict[str, list]:
    """`insufficient`: windows that cannot decide (exit 3); `untested_routes`: routes too thin
    in a window for a share test."""
    from dockdrift.analysis.sufficiency import untested_routes, window_shortfall

    short = [window_shortfall(e, name, w.db, window_filter(w, base), result[name],
                              params.min_total)
             for name, e, w in zip(("baseline", "current"), engines, windows, strict=True)]
    unique = {s.reason: s.to_dict() for s in short if s is not None}  # store: said once
    return {"insufficient": list(unique.values()),
            "untested_routes": untested_routes(*routes, params.min_total)}


def flagged_routes(findings: list[dict]) -> list[tuple[str, str, str]]:
    """(target, method, route) of every finding but recording gaps, in order, once each."""
    return list(dict.fromkeys((f["target"], f["method"], f["route"])
                              for f in findings if f["kind"] != "recording_gap"))
