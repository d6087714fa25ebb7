"""Drift results as text, Markdown, JSON and self-contained HTML (with share timelines)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockdrift.analysis.drift.run import records
from dockdrift.render.base import color, md_table, text_table, to_json, wants_color

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["records", "render", "render_history", "wants_color"]
HEADERS = ["kind", "target", "method", "route", "code", "baseline", "current", "effect",
           "p (adj.)"]
KIND_COLOR = {"new_code": "yellow", "vanished_code": "cyan", "share_shift": "magenta",
              "newly_undocumented": "bold-red", "recording_gap": "bold-red",
              "stream_error_shift": "bold-red", "exit_code_shift": "red"}


def _share(count: int | None, n: int | None) -> str:
    if not n:
        return "-"
    return f"{count}/{n} ({(count or 0) / n:.0%})"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    parts = [f"{days}d"] * bool(days) + [f"{rest // 60}h"] * bool(rest // 60)
    return " ".join(parts + [f"{rest % 60}m"] * bool(rest % 60 or not parts))


def _gap_row(f: dict) -> list[str]:
    """A recording_gap in the findings table: the silent stretch and how long it lasted."""
    what = "no exchanges" + (" (recorder stopped?)" if f.get("until_end") else "")
    return ["recording_gap", f["target"] or "*", f["method"] or "*", f["route"] or what,
            "-", f"{f['gap_start']} ..", f"{f['gap_end']}", _duration(f["gap_seconds"]),
            f"> {_duration(f['max_gap_seconds'])}"]


def _rows(findings: list[dict]) -> list[list[str]]:
    out = []
    for f in findings:
        if f["kind"] == "recording_gap":
            out.append(_gap_row(f))
            continue
        stat = f"G={f['statistic']:.1f}, " if f.get("statistic") is not None else ""
        kind = f["kind"] + (f" {f['field']}: {f['change']}" if f.get("field") else "")
        out.append([kind, f["target"], f["method"], f["route"], str(f["code"]),
                    _share(f["baseline_count"], f["baseline_n"]),
                    _share(f["current_count"], f["current_n"]),
                    f"{f['effect']:.2f}", f"{stat}{f['p_adjusted']:.2g}"])
    return out


def _window(name: str, w: dict) -> str:
    span = f"{w['start'] or '(open)'} .. {w['end'] or '(open)'}"
    return (f"{name}: {w['db']} {span}: {w['n_answered']} answered, "
            f"{w['n_proxy_failures']} proxy failures")


def _verdict(result: dict) -> str:
    n = len(result["findings"])
    short = result.get("insufficient") or []
    found = f"{n} finding{'s' * (n != 1)}"
    if short:
        return (found + "; " if n else "") + "not enough data to decide: " + "; ".join(
            s["reason"] for s in short)
    return "no drift" if n == 0 else found


def _untested(result: dict) -> str | None:
    """One line on the routes too thin for a share test (their new/vanished codes were tested)."""
    thin = result.get("untested_routes") or []
    if not thin:
        return None
    names = ", ".join(f"{r['method']} {r['route']} ({r['baseline_n']}/{r['current_n']})"
                      for r in thin[:5])
    more = f" and {len(thin) - 5} more" if len(thin) > 5 else ""
    return (f"{len(thin)} route(s) with fewer than min_total answered requests in a window "
            f"(baseline/current), shares not tested: {names}{more}")


def _bad(result: dict) -> bool:
    return bool(result["findings"] or result.get("insufficient"))


def to_text(result: dict, use_color: bool = False) -> str:
    lines = [_window("baseline", result["baseline"]), _window("current ", result["current"]), ""]
    rows = _rows(result["findings"])
    for row in rows:
        row[0] = color(row[0], KIND_COLOR.get(row[0]), use_color)
    if rows:
        lines += [text_table(HEADERS, rows), ""]
    if (note := _untested(result)) is not None:
        lines += [color(note, "dim", use_color), ""]
    verdict = _verdict(result)
    lines.append(color(verdict, "bold-red" if _bad(result) else "bold-green", use_color))
    return "\n".join(lines) + "\n"


def to_markdown(result: dict) -> str:
    parts = ["# dockdrift drift", "", f"- {_window('baseline', result['baseline'])}",
             f"- {_window('current', result['current'])}", ""]
    if result["findings"]:
        parts += [md_table(HEADERS, _rows(result["findings"])), ""]
    if (note := _untested(result)) is not None:
        parts += [f"_{note}_", ""]
    parts.append(f"**{_verdict(result)}**")
    return "\n".join(parts) + "\n"


def to_html(result: dict, meta: dict, timelines: tuple[dict, str] = ({}, "")) -> str:
    """The page; `timelines`: analysis.drift.plots.route_timelines' figures per flagged route
    and its note (the command draws them: they need the stores)."""
    from dockdrift.analysis.drift.run import flagged_routes
    from dockdrift.render.html import figure_to_data_uri, page

    figures, timeline_note = timelines
    routes = []
    for key in flagged_routes(result["findings"]):
        rows = _rows([f for f in result["findings"]
                      if (f["target"], f["method"], f["route"]) == key])
        image = None
        if key in figures:
            image = figure_to_data_uri(figures[key])
            figures[key].clf()  # free it: a report may hold many routes
        routes.append({"title": f"{key[0]} {key[1]} {key[2]}", "rows": rows, "image": image,
                       "alt": f"code shares over time on {key[1]} {key[2]}"})
    params = ", ".join(f"{k}={v}" for k, v in meta["params"].items() if v not in ((), [], None))
    return page("drift.html", "dockdrift drift", _verdict(result), headers=HEADERS,
                windows=[_window(n, result[n]) for n in ("baseline", "current")],
                insufficient=[s["reason"] for s in result.get("insufficient") or []],
                no_drift=not result["findings"], untested=_untested(result),
                gaps=_rows([f for f in result["findings"] if f["kind"] == "recording_gap"]),
                routes=routes, timeline_note=timeline_note, params=params)


def render(result: dict, fmt: str, meta: dict, timelines: tuple[dict, str] = ({}, ""),
           use_color: bool = False) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt == "markdown":
        return to_markdown(result)
    if fmt == "html":
        return to_html(result, meta, timelines)
    return to_text(result, use_color)


HISTORY_HEADERS = ["id", "saved", "baseline", "current", "findings", "kinds"]


def _history_rows(runs: pd.DataFrame) -> list[list[str]]:
    def span(a: Any, b: Any) -> str:
        fmt = lambda t: "(open)" if t is None or t != t else f"{t:%Y-%m-%d %H:%M}"  # noqa: E731
        return f"{fmt(a)} .. {fmt(b)}"

    rows = []
    for r in runs.itertuples(index=False):
        kinds: dict[str, int] = {}
        for f in r.findings:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        rows.append([str(r.id), f"{r.created_at:%Y-%m-%d %H:%M:%S}",
                     span(r.baseline_start, r.baseline_end), span(r.current_start, r.current_end),
                     str(r.n_findings), ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))])
    return rows


def render_history(runs: pd.DataFrame, fmt: str, db: str) -> str:
    """Saved runs as a table (text/markdown), JSON, or HTML with findings-over-time bars."""
    from dockdrift.db.version import version_info

    rows = _history_rows(runs)
    if fmt == "json":
        return to_json({"runs": [
            {"id": int(r.id), "created_at": r.created_at.isoformat(timespec="seconds"),
             "baseline": [_iso(r.baseline_start), _iso(r.baseline_end)],
             "current": [_iso(r.current_start), _iso(r.current_end)],
             "n_findings": int(r.n_findings), "findings": r.findings, "params": r.params,
             "dockdrift_version": r.dockdrift_version}
            for r in runs.itertuples(index=False)], "dockdrift": version_info()})
    if fmt == "markdown":
        return f"# dockdrift drift history ({db})\n\n" + md_table(HISTORY_HEADERS, rows) + "\n"
    if fmt == "html":
        from dockdrift.analysis.drift.plots import history_bars
        from dockdrift.render.html import figure_to_data_uri, page

        image = figure_to_data_uri(history_bars(runs)) if len(runs) else None
        return page("history.html", "dockdrift drift history", db, headers=HISTORY_HEADERS,
                    rows=rows, image=image)
    if not rows:
        return f"no saved drift runs in {db} (dockdrift drift --save stores one)\n"
    return text_table(HISTORY_HEADERS, rows) + "\n"


def _iso(t: Any) -> str | None:
    return None if t is None or t != t else t.isoformat(timespec="seconds")
