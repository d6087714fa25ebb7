"""Times and windows on the command line: `now`, relative ages (`7d`, `12h`, `1d6h`, `90m`)
and ISO 8601 (`2026-11-20`, `2026-11-20T10:00`, `...Z`, `...+01:00`); windows `START..END`.

All results are naive UTC, like `exchanges.started_at`. Signatures are stable: `dockdrift report`
(`--since/--until`) and `dockdrift drift` (`--baseline/--current`) both use them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dockdrift.analysis.errors import AnalysisError

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|m|sec|s)")
_RELATIVE = re.compile(r"-?((?:\d+(?:\.\d+)?(?:w|d|h|min|m|sec|s))+)(?:\s*ago)?")
HELP = "use 'now', an age such as 7d, 12h, 1d6h, 90m, or an ISO time such as 2026-11-20T10:00Z"


def to_naive_utc(value: datetime) -> datetime:
    """Aware -> naive UTC; naive values are taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def parse_duration(text: str) -> timedelta:
    """'1d6h' -> timedelta(days=1, hours=6). Raises AnalysisError."""
    m = _RELATIVE.fullmatch(text.strip().lower())
    if not m:
        raise AnalysisError(f"bad duration {text!r}: use e.g. 7d, 12h, 1d6h, 90m, 30s")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(m.group(1)))
    return timedelta(seconds=seconds)


def parse_time(text: str, now: datetime) -> datetime:
    """A time on the command line -> naive UTC.

    `now`, a relative age counted back from `now` (`7d`, `-7d`, `7d ago`, `1d6h`), or an ISO time
    (a date alone means its midnight UTC; no offset means UTC). Raises AnalysisError.
    """
    now = to_naive_utc(now)
    s = text.strip()
    if not s:
        raise AnalysisError(f"empty time: {HELP}")
    if s.lower() == "now":
        return now
    if _RELATIVE.fullmatch(s.lower()):
        return now - parse_duration(s)
    iso = s[:-1] + "+00:00" if s[-1:] in "zZ" else s  # Python 3.11 reads Z too; be explicit
    try:
        return to_naive_utc(datetime.fromisoformat(iso))
    except ValueError:
        raise AnalysisError(f"bad time {text!r}: {HELP}") from None


def parse_window(text: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """'START..END' -> (start, end), end exclusive; an empty side is open (None).

    `7d..1d` is from seven days ago to one day ago, `1d..now` the last day, `2026-11-20..` from
    that date on, `..` everything. Raises AnalysisError when malformed or when start >= end.
    """
    if ".." not in text:
        raise AnalysisError(f"bad window {text!r}: use START..END, e.g. 7d..1d, 1d..now, "
                         "2026-11-20..2026-11-21 (an empty side is open)")
    left, right = text.split("..", 1)
    start = parse_time(left, now) if left.strip() else None
    end = parse_time(right, now) if right.strip() else None
    if start is not None and end is not None and start >= end:
        raise AnalysisError(f"bad window {text!r}: its start ({start:%Y-%m-%d %H:%M:%S}) is not "
                         f"before its end ({end:%Y-%m-%d %H:%M:%S}); write the older time first")
    return start, end
