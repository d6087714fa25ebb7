"""`--by DIM`: one report per value of a dimension (recorder, target, implementation, method;
db.dimensions), side by side; `drift --by recorder`: one drift run per recorder.

Each section is the ordinary command restricted to one value (`Filter.narrowed`), so the
numbers are exactly what `--recorder NAME` (`--target T`, ...) gives. Exit codes as the plain commands: 1 when any
section has undocumented codes (report) or findings (drift), else 3 when no recorder matched or
a section has too little data to decide (`--min-total`, `--allow-empty`), else 0.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dockdrift.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.load import Filter

BY_FORMATS = ("text", "markdown", "json", "csv")
NO_NAME = "(unnamed)"


def recorders(engine: Engine, flt: Filter) -> list[str | None]:
    """The recorders that saw exchanges under the filter; None: a store recorded before
    recorders had names."""
    from dockdrift.analysis.load import dimension_values

    return dimension_values(engine, flt, "recorder")


def check_format(fmt: str, allowed: tuple[str, ...] = BY_FORMATS, by: str = "recorder") -> None:
    if fmt not in allowed:
        from dockdrift.db.dimensions import DIMENSIONS

        flag = DIMENSIONS[by].flag or f"--{by}"
        raise UsageError(f"--by {by} writes {', '.join(allowed)}, not {fmt}: use one of "
                         f"those, or {flag} {'NAME' if by == 'recorder' else 'VALUE'} for one "
                         f"{by}'s HTML page")


def not_enough(command: str, reasons: list[str], allow_empty: bool) -> int:
    """Print each shortfall on stderr (as the plain commands do); 3 unless allow_empty."""
    import sys

    from dockdrift.analysis.sufficiency import EXIT_NOT_ENOUGH_DATA

    for reason in reasons:
        print(f"dockdrift {command}: not enough data: {reason}", file=sys.stderr)
    return EXIT_NOT_ENOUGH_DATA if reasons and not allow_empty else 0


def no_value(by: str, flt: Filter | None = None) -> str:
    """Why `--by DIM` has no section: the filter, or the store."""
    if by == "recorder":
        return no_recorder(flt)
    where = "matches the filter" if flt is not None and flt.is_set() else "is in the store"
    return f"no exchange with a {by} {where}: nothing to split by {by}"


def no_recorder(flt: Filter | None = None) -> str:
    if flt is not None and any((flt.since, flt.until, flt.target, flt.method, flt.route,
                                flt.recorders)):
        return ("no exchange with a recorder name matches the filter: nothing to split by "
                "recorder (check --recorder, --since/--until, --target, --method, --route)")
    return ("no exchange in the store has a recorder name: nothing to split by recorder "
            "(stores recorded before schema 2 have none; use the plain command)")


def report_sections(engine: Engine, flt: Filter, against: str, fmt: str, min_total: int = 1,
                    allow_empty: bool = False, by: str = "recorder") -> tuple[str, int]:
    """Every value's report in one output (`by`: a dimension of db.dimensions.BY_DIMENSIONS);
    exit as `not_enough` and the module says."""
    from dockdrift.analysis import report_render
    from dockdrift.analysis.load import dimension_values
    from dockdrift.analysis.matrix.documented import check_against
    from dockdrift.analysis.report import documented_frame, load_report

    check_format(fmt, by=by)
    check_against(against, documented_frame(engine))  # before the sections, even if none
    names = dimension_values(engine, flt, by)
    texts, docs, undocumented, short = [], [], False, []
    if not [n for n in names if n is not None]:
        short.append(no_value(by, flt))
    for name in names:
        if name is None:  # a filter cannot say IS NULL: skip, and say so below
            continue
        report = load_report(engine, flt.narrowed(by, name), against)
        undocumented |= report.has_undocumented
        answered = int(report.summary.get("answered", 0))
        if answered < min_total:
            short.append(f"{by} {name}: {answered} answered exchanges, fewer than "
                         f"--min-total {min_total}")
        if fmt == "json":
            docs.append({by: name, **json.loads(report_render.to_json(report))})
        elif fmt == "csv":
            body = report_render.to_csv(report).splitlines()
            start = 0 if not texts else 1  # one header line for the whole file
            texts += [f"{by},{line}" if i == 0 else f"{_csv_cell(name)},{line}"
                      for i, line in enumerate(body)][start:]
        else:
            head = f"## {by}: {name}" if fmt == "markdown" else f"=== {by}: {name}"
            body = (report_render.to_markdown(report) if fmt == "markdown"
                    else report_render.to_text(report))
            texts.append(f"{head}\n\n{body}")
    unnamed = None in names
    enough = not_enough("report", short, allow_empty)  # printed even when code 1 wins
    code = 1 if undocumented else enough
    if fmt == "json":
        return json.dumps({"by": by, "sections": docs, f"unnamed_{by}_rows": unnamed},
                          indent=2) + "\n", code
    what = ("no recorder name (recorded before schema 2)" if by == "recorder"
            else f"no {by}")
    note = ([f"{NO_NAME}: some exchanges carry {what}; they are in the plain report"]
            if unnamed and fmt != "csv" else [])
    sep = "\n" if fmt == "csv" else "\n\n"
    return sep.join(texts + note) + "\n", code


def _csv_cell(value: str) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue()


def drift_sections(args, now) -> tuple[str, int]:  # noqa: ANN001 - argparse namespace, datetime
    """Drift per recorder: each recorder's baseline against its own current window."""
    import argparse

    from dockdrift.analysis import drift_render
    from dockdrift.commands.drift import _open, compute
    from dockdrift.analysis.load import Filter

    check_format(args.format, ("text", "markdown", "json"))
    if args.save:
        raise UsageError("--by recorder does not --save (one saved run per recorder would mix "
                         "their baselines): schedule one `drift --recorder NAME --save` each")
    probe = _open(args.db)
    try:
        names = [n for n in recorders(probe, Filter()) if n is not None]
    finally:
        probe.dispose()
    texts, findings, sections, short = [], [], [], [] if names else [no_recorder()]
    for name in names:
        one = argparse.Namespace(**{**vars(args), "recorder": [name], "by": None})
        result, engine, b_engine, meta = compute(one, now)
        try:
            for f in result["findings"]:
                findings.append({"recorder": name, **f})
            short += [f"recorder {name}: {s['reason']}" for s in result["insufficient"]]
            sections.append({"recorder": name, "baseline": result["baseline"],
                             "current": result["current"], "n_findings": len(result["findings"])})
            if args.format in ("text", "markdown"):
                head = f"## recorder: {name}" if args.format == "markdown" else f"=== recorder: {name}"
                texts.append(f"{head}\n\n" + drift_render.render(result, args.format, meta, engine,
                                                                 b_engine, use_color=False))
        finally:
            engine.dispose()
            if b_engine is not engine:
                b_engine.dispose()
    enough = not_enough("drift", short, args.allow_empty)
    code = 1 if findings else enough
    if args.format == "json":
        return json.dumps({"by": "recorder", "findings": findings, "sections": sections},
                          indent=2, default=str) + "\n", code
    return "\n\n".join(texts) + "\n", code
