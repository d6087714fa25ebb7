"""Drift thresholds and suppressions from `dockdrift.toml` or `[tool.dockdrift]` in pyproject.toml.

    [drift]                      # in pyproject.toml: [tool.dockdrift.drift]
    alpha = 0.01                 # family-wise false-alarm level of one run
    min_count = 5                # occurrences before a code is new / vanished
    min_total = 30               # answered requests a window needs to decide (else exit 3)
                                 # and a route needs per window for its shares to be tested
    min_expected = 5             # G-test cell expectation; rarer codes are merged
    min_effect = 0.1             # total variation distance floor for share_shift
    correction = "holm"          # holm | bh | bonferroni | none
    against = "seed"             # seed | spec | spec:1.41 | own | podman (newly_undocumented)
    baseline = "8d..1d"          # default windows
    current = "1d..now"
    max_gap = "1h"               # a recording_gap finding when the current window has a
                                 # stretch with no exchanges longer than this (default: off)
    ignore_routes = ["/events", "/containers/{name:.*}/logs"]   # globs allowed

    [[drift.suppress]]           # codes known to vary (no codes: the whole route)
    route = "/containers/{name:.*}/stop"
    codes = [304]
    target = "engine"            # optional; method too

Unknown keys and wrong types are errors (a typo must not silently disable a threshold).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dockdrift.analysis.drift.stats import CORRECTIONS, DriftParams, Suppression
from dockdrift.analysis.errors import AnalysisError

CONFIG_FILE = "dockdrift.toml"
_NUMBERS: dict[str, tuple[type, float, float]] = {  # key -> (type, min, max)
    "alpha": (float, 1e-12, 0.5), "min_count": (int, 1, 1e9), "min_total": (int, 1, 1e12),
    "min_expected": (float, 0.0, 1e6), "min_effect": (float, 0.0, 1.0)}
_STRINGS = {"correction", "against", "baseline", "current", "max_gap"}
_SUPPRESS_KEYS = {"route", "codes", "target", "method"}


@dataclass(frozen=True)
class DriftConfig:
    """What a config file says: test parameters plus default windows and table."""

    params: DriftParams = DriftParams()
    options: dict[str, str] = field(default_factory=dict)  # against, baseline, current
    source: str | None = None  # the file it came from, for the report


def find_config(explicit: str | None, cwd: Path) -> tuple[Path, dict[str, Any]] | None:
    """The config in effect: --config PATH, ./dockdrift.toml, or [tool.dockdrift] in pyproject."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise AnalysisError(f"config file {path} does not exist: fix --config")
        data = _read(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("dockdrift", {})
        return path, data
    if (cwd / CONFIG_FILE).is_file():
        return cwd / CONFIG_FILE, _read(cwd / CONFIG_FILE)
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        section = _read(pyproject).get("tool", {}).get("dockdrift")
        if section is not None:
            return pyproject, section
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise AnalysisError(f"cannot read config {path}: {exc.strerror}") from None


def load_config(explicit: str | None = None, cwd: Path | None = None) -> DriftConfig:
    """Read and validate the [drift] section; no file means the defaults."""
    found = find_config(explicit, cwd or Path.cwd())
    if found is None:
        return DriftConfig()
    path, data = found
    section = data.get("drift", {})
    if not isinstance(section, dict):
        raise AnalysisError(f"{path}: [drift] must be a table")
    return parse_section(section, str(path))


def parse_section(section: dict[str, Any], where: str) -> DriftConfig:
    """Validate one [drift] table into a DriftConfig; one clear AnalysisError on the first problem."""
    known = set(_NUMBERS) | _STRINGS | {"ignore_routes", "suppress"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise AnalysisError(f"{where}: unknown key [drift] {unknown[0]} "
                         f"(known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key, (kind, lo, hi) in _NUMBERS.items():
        if key in section:
            values[key] = check_number(key, section[key], kind, lo, hi, where)
    options = {}
    for key in _STRINGS & set(section):
        if not isinstance(section[key], str):
            raise AnalysisError(f"{where}: [drift] {key} must be a string, got {section[key]!r}")
        options[key] = section[key]
    if "correction" in options:
        values["correction"] = check_correction(options.pop("correction"), where)
    if "max_gap" in options:
        check_duration(options["max_gap"], f"{where}: [drift] max_gap")
    routes = section.get("ignore_routes", [])
    if not isinstance(routes, list) or not all(isinstance(r, str) for r in routes):
        raise AnalysisError(f"{where}: [drift] ignore_routes must be a list of route strings")
    values["ignore_routes"] = tuple(routes)
    values["suppress"] = tuple(_suppression(s, where) for s in section.get("suppress", []))
    return DriftConfig(replace(DriftParams(), **values), options, where)


def check_number(key: str, value: Any, kind: type, lo: float, hi: float, where: str) -> Any:
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        ok_type = ok_type and float(value).is_integer()
    if not ok_type or not lo <= value <= hi:
        what = "an integer" if kind is int else "a number"
        raise AnalysisError(f"{where}: {key} must be {what} in [{lo:g}, {hi:g}], got {value!r}")
    return kind(value)


def check_duration(value: str, where: str) -> float:
    """A positive duration such as 1h, 90m, 1d6h -> seconds (max_gap)."""
    from dockdrift.analysis.timeparse import parse_duration

    try:
        seconds = parse_duration(value).total_seconds()
    except AnalysisError as exc:
        raise AnalysisError(f"{where}: {exc}") from None
    if seconds <= 0:
        raise AnalysisError(f"{where}: must be longer than zero, got {value!r}")
    return seconds


def check_correction(value: str, where: str) -> str:
    if value not in CORRECTIONS:
        raise AnalysisError(f"{where}: correction must be one of {', '.join(CORRECTIONS)}, "
                         f"got {value!r}")
    return value


def _suppression(item: Any, where: str) -> Suppression:
    if not isinstance(item, dict) or not isinstance(item.get("route"), str):
        raise AnalysisError(f"{where}: each [[drift.suppress]] needs route = \"...\"")
    extra = sorted(set(item) - _SUPPRESS_KEYS)
    if extra:
        raise AnalysisError(f"{where}: unknown key {extra[0]} in [[drift.suppress]] "
                         f"(known: {', '.join(sorted(_SUPPRESS_KEYS))})")
    codes = item.get("codes", [])
    if not isinstance(codes, list) or not all(isinstance(c, int) and 100 <= c <= 599
                                              for c in codes):
        raise AnalysisError(f"{where}: [[drift.suppress]] codes must be a list of HTTP status "
                         f"codes, got {codes!r}")
    for key in ("target", "method"):
        if key in item and not isinstance(item[key], str):
            raise AnalysisError(f"{where}: [[drift.suppress]] {key} must be a string")
    return Suppression(item["route"], tuple(codes), item.get("target"), item.get("method"))
