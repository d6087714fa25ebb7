"""`--by DIM`: one report per value of a dimension (recorder, client family, target,
implementation, method: db.dimensions.BY_DIMENSIONS), or one drift run per recorder or client
family, side by side.

Each section is the ordinary command restricted to one value (`Filter.narrowed`), so the
numbers are exactly what `--recorder NAME` (`--client NAME`, ...) gives. Exit codes as the
plain commands: 1 when any
section has undocumented codes (report) or findings (drift), else 3 when no recorder matched or
a section has too little data to decide (`--min-total`, `--allow-empty`), else 0.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dockdrift.db.dimensions import DIMENSIONS
from dockdrift.errors import EXIT_FINDINGS, EXIT_NOT_ENOUGH_DATA, UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdrift.analysis.load import Filter

BY_FORMATS = ("text", "markdown", "json", "csv")
NO_NAME = "(unnamed)"


def recorders(engine: Engine, flt: Filter, by: str = "recorder") -> list[str | None]:
    """The values of `by` (recorders, client families, ...) under the filter (a GROUP BY,
    analysis.load.dimension_values); None: rows recorded before they had one."""
    from dockdrift.analysis.load import dimension_values

    return dimension_values(engine, flt, by)


def check_format(fmt: str, allowed: tuple[str, ...] = BY_FORMATS, by: str = "recorder") -> None:
    if fmt not in allowed:
        raise UsageError(f"--by {by} writes {', '.join(allowed)}, not {fmt}: use one of "
                         f"those, or {DIMENSIONS[by].flag} NAME for one {by}'s HTML page")


def not_enough(command: str, reasons: list[str], allow_empty: bool) -> int:
    """Print each shortfall on stderr (as the plain commands do); 3 unless allow_empty."""
    import sys

    for reason in reasons:
        print(f"dockdrift {command}: not enough data: {reason}", file=sys.stderr)
    return EXIT_NOT_ENOUGH_DATA if reasons and not allow_empty else 0


def no_recorder(flt: Filter | None = None, by: str = "recorder") -> str:
    if by not in ("recorder", "client"):
        where = "matches the filter" if flt is not None and flt.is_set() else "is in the store"
        return f"no exchange with a {by} {where}: nothing to split by {by}"
    if by == "client":
        return ("no exchange with a client name matches the filter: nothing to split by client "
                "(client identity is recorded from schema 3 on; see dockdrift clients)")
    if flt is not None and any((flt.since, flt.until, flt.target, flt.method, flt.route,
                                flt.recorders)):
        return ("no exchange with a recorder name matches the filter: nothing to split by "
                "recorder (check --recorder, --since/--until, --target, --method, --route)")
    return ("no exchange in the store has a recorder name: nothing to split by recorder "
            "(stores recorded before schema 2 have none; use the plain command)")


def report_sections(engine: Engine, flt: Filter, against: str, fmt: str, min_total: int = 1,
                    allow_empty: bool = False, by: str = "recorder") -> tuple[str, int]:
    """Every value's report in one output (`by`: db.dimensions.BY_DIMENSIONS); exit as
    `not_enough` and the module says."""
    from dockdrift.analysis.matrix.documented import check_against
    from dockdrift.analysis.report import documented_frame, load_report
    from dockdrift.render import report as report_render

    check_format(fmt, by=by)
    check_against(against, documented_frame(engine))  # before the sections, even if none
    names = recorders(engine, flt, by)
    texts, docs, undocumented, short = [], [], False, []
    if not [n for n in names if n is not None]:
        short.append(no_recorder(flt, by))
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
            texts += [f"{by},{line}" if i == 0 else f"{name},{line}"
                      for i, line in enumerate(body)][start:]
        else:
            head = f"## {by}: {name}" if fmt == "markdown" else f"=== {by}: {name}"
            body = (report_render.to_markdown(report) if fmt == "markdown"
                    else report_render.to_text(report))
            texts.append(f"{head}\n\n{body}")
    unnamed = None in names
    enough = not_enough("report", short, allow_empty)  # printed even when code 1 wins
    code = EXIT_FINDINGS if undocumented else enough
    if fmt == "json":
        return json.dumps({"by": by, "sections": docs,
                           f"unnamed_{by}_rows": unnamed}, indent=2) + "\n", code
    what = {"recorder": "no recorder name (recorded before schema 2)",
            "client": "no client name (recorded before schema 3, or sent no User-Agent)"
            }.get(by, f"no {by}")
    note = ([f"{NO_NAME}: some exchanges carry {what}; they are in the plain report"]
            if unnamed and fmt != "csv" else [])
    sep = "\n" if fmt == "csv" else "\n\n"
    return sep.join(texts + note) + "\n", code


def drift_sections(args, now, by: str = "recorder") -> tuple[str, int]:  # noqa: ANN001
    """Drift per recorder (or client): each one's baseline against its own current window."""
    import argparse

    from dockdrift.render import drift as drift_render
    from dockdrift.commands.drift_args import _open, compute
    from dockdrift.analysis.load import Filter

    check_format(args.format, ("text", "markdown", "json"), by)
    flag = DIMENSIONS[by].flag or f"--{by}"
    if args.save:
        raise UsageError(f"--by {by} does not --save (one saved run per {by} would mix "
                         f"their baselines): schedule one `drift {flag} NAME --save` each")
    probe = _open(args.db)
    try:
        names = [n for n in recorders(probe, Filter(), by) if n is not None]
    finally:
        probe.dispose()
    texts, findings, sections, short = [], [], [], [] if names else [no_recorder(None, by)]
    for name in names:
        one = argparse.Namespace(**{**vars(args), flag[2:]: [name], "by": None})
        result, engine, b_engine, meta = compute(one, now)
        try:
            for f in result["findings"]:
                findings.append({by: name, **f})
            short += [f"{by} {name}: {s['reason']}" for s in result["insufficient"]]
            sections.append({by: name, "baseline": result["baseline"],
                             "current": result["current"], "n_findings": len(result["findings"])})
            if args.format in ("text", "markdown"):
                head = f"## {by}: {name}" if args.format == "markdown" else f"=== {by}: {name}"
                texts.append(f"{head}\n\n" + drift_render.render(result, args.format, meta,
                                                                 use_color=False))
        finally:
            engine.dispose()
            if b_engine is not engine:
                b_engine.dispose()
    enough = not_enough("drift", short, args.allow_empty)
    code = EXIT_FINDINGS if findings else enough
    if args.format == "json":
        return json.dumps({"by": by, "findings": findings, "sections": sections},
                          indent=2, default=str) + "\n", code
    return "\n\n".join(texts) + "\n", code
