"""Outcomes in `dockdrift report`: per route, 2xx answers that carried an error in their
stream (with the most frequent messages) and the exit statuses of wait / exec inspect.

Pure functions on the `analysis.outcomes.load` aggregates; `attach` returns a new Report
whose routes gain `stream_errors` ({code: answers with an error}), `stream_answers` ({code:
answers looked into}), `stream_messages` ([[text, count], ...]) and `exit_codes` ({status:
count}), and whose summary gains `outcomes`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from dockdrift.analysis.compare import Report, normalize
from dockdrift.analysis.outcomes.load import (KEYS, exit_code_counts, stream_error_counts,
                                    stream_error_messages)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.load import Filter

TOP_MESSAGES = 3
WITHHELD = "(text withheld: credential-carrying route)"


def load(engine: Engine, flt: Filter) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three outcome aggregates of a report's filter (SQL GROUP BY each)."""
    return (stream_error_counts(engine, flt), stream_error_messages(engine, flt),
            exit_code_counts(engine, flt))


def per_route(streams: pd.DataFrame, messages: pd.DataFrame,
              exits: pd.DataFrame, top: int = TOP_MESSAGES) -> dict[tuple, dict]:
    """(target, method, route) -> its outcome figures (only routes that have any)."""
    out: dict[tuple, dict] = {}

    def entry(key: tuple) -> dict:
        return out.setdefault(key, {"stream_errors": {}, "stream_answers": {},
                                    "stream_messages": [], "exit_codes": {}})

    s = normalize(streams)
    for t, m, r, code, answers, bad in zip(*(s[c].tolist() for c in s.columns), strict=True):
        if code is None or code != code:
            continue
        e = entry((t, m, r))
        e["stream_answers"][int(code)] = e["stream_answers"].get(int(code), 0) + int(answers)
        if bad:
            e["stream_errors"][int(code)] = e["stream_errors"].get(int(code), 0) + int(bad)
    msgs = normalize(messages).sort_values("count", ascending=False, kind="stable")
    for t, m, r, text, n in zip(*(msgs[c].tolist() for c in msgs.columns), strict=True):
        lst = entry((t, m, r))["stream_messages"]
        if len(lst) < top:
            lst.append([text if isinstance(text, str) else WITHHELD, int(n)])
    x = normalize(exits).sort_values("exit_code")
    for t, m, r, code, n in zip(*(x[c].tolist() for c in x.columns), strict=True):
        codes = entry((t, m, r))["exit_codes"]
        codes[int(code)] = codes.get(int(code), 0) + int(n)
    return out


def attach(report: Report, streams: pd.DataFrame, messages: pd.DataFrame,
           exits: pd.DataFrame) -> Report:
    """The report with its routes' outcome columns and summary["outcomes"]."""
    figures = per_route(streams, messages, exits)
    routes = report.routes.copy()
    keys = list(zip(*(routes[k].tolist() for k in KEYS), strict=True)) if len(routes) else []
    empty: dict = {"stream_errors": {}, "stream_answers": {}, "stream_messages": [],
                   "exit_codes": {}}
    for col in empty:
        routes[col] = [dict(figures.get(k, empty)[col]) if col != "stream_messages"
                       else list(figures.get(k, empty)[col]) for k in keys]
    ok = [sum(n for c, n in e.items() if 200 <= c < 300) for e in routes["stream_errors"]]
    summary = {**report.summary, "outcomes": {
        "answers_2xx_with_stream_error": int(sum(ok)),
        "routes_with_stream_errors": int(sum(1 for n in ok if n)),
        "exit_codes": _total_exits(routes)}}
    return replace(report, routes=routes, summary=summary)


def _total_exits(routes: pd.DataFrame) -> dict[str, int]:
    total: dict[int, int] = {}
    for codes in routes["exit_codes"]:
        for c, n in codes.items():
            total[c] = total.get(c, 0) + n
    return {str(c): n for c, n in sorted(total.items())}


def _share(bad: int, n: int) -> str:
    return f"{bad}/{n} ({bad / n:.0%})" if n else str(bad)


def sections(report: Report) -> dict[str, tuple[list[str], list[list[object]]]]:
    """The report's outcome sections (title -> headers, rows), for text, markdown and html."""
    routes = report.routes
    if "stream_errors" not in routes:
        return {}
    errors, exits = [], []
    for r in routes.itertuples():
        for code, bad in r.stream_errors.items():
            if 200 <= code < 300:
                msgs = " · ".join(f"{t} ×{n}" for t, n in r.stream_messages)
                errors.append([r.target, r.method, r.route, code,
                               _share(bad, r.stream_answers.get(code, 0)), msgs])
        if r.exit_codes:
            exits.append([r.target, r.method, r.route,
                          " ".join(f"{c}×{n}" for c, n in r.exit_codes.items()),
                          sum(r.exit_codes.values())])
    return {
        "Errors inside 2xx answers (the status said success)":
            (["target", "method", "route", "code", "with error", "most frequent errors"],
             errors),
        "Exit statuses told to clients (wait, exec inspect)":
            (["target", "method", "route", "exit status×count", "answers"], exits),
    }
