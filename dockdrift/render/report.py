"""A `compare.Report` in each output format: text, markdown, html, json, csv.

The same findings in the same order everywhere: routes (observed vs documented), undocumented
codes, documented codes never observed, routes never exercised, unknown routes, proxy-side
failures, Swarm vs Engine.
"""

from __future__ import annotations

from collections.abc import Callable

from dockdrift.render import base as render
from dockdrift.analysis.compare import Report
from dockdrift.analysis.outcomes import report as outcomes
from dockdrift.analysis.shapes.report import sections as shape_sections


def _s(value: object) -> str:
    """A cell's text: None and NaN (pandas' missing values) are empty."""
    return "" if value is None or value != value else str(value)


def _codes(codes: tuple[int, ...] | list[int]) -> str:
    return " ".join(map(str, codes)) or "-"


def _pct(v: float | None) -> str:
    return "-" if v is None or v != v else f"{v:.0%}"


def _observed_cell(r: object, paint: Callable[[str, str | None], str]) -> str:
    cells = []
    for code, n in r.observed.items():  # type: ignore[attr-defined]
        kind = "bold-red" if code in r.undocumented else "green"  # type: ignore[attr-defined]
        cells.append(paint(f"{code}×{n}", kind))
    return " ".join(cells)


def _headline(report: Report) -> str:
    s = report.summary
    span = f"{s.get('first') or '-'} → {s.get('last') or '-'}"
    return (f"against {report.against} · {s.get('answered', 0)} answered exchanges, "
            f"{s.get('proxy_failed', 0)} proxy-side failures · {span}")


def _verdict(report: Report) -> str:
    s = report.summary
    short = "; ".join(x["reason"] for x in s.get("insufficient") or [])
    if short and not report.has_undocumented:
        return f"not enough data to decide: {short}"
    if not s.get("answered"):
        return "no answered exchange matched: nothing to compare"
    if report.has_undocumented:
        return (f"{s['undocumented_codes']} undocumented code(s) observed "
                f"({s['undocumented_exchanges']} exchanges)")
    return "every observed code is documented"


def _findings(report: Report) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Section title -> (headers, rows) shared by text, markdown and html."""
    s, routes = report.summary, report.routes
    undoc = [[r.target, r.method, r.route, c, r.observed[c], _codes(r.documented)]
             for r in routes.itertuples() for c in r.undocumented]
    unobs = [[r.target, r.method, r.route, _codes(r.unobserved)]
             for r in routes.itertuples() if r.unobserved]
    never = [[t, ", ".join(ts["tables"]), f"{ts['routes_exercised']}/{ts['routes_documented']}",
              _pct(ts["route_coverage"]), f"{ts['codes_observed']}/{ts['codes_documented']}",
              _pct(ts["code_coverage"]), len(ts["never_exercised"])]
             for t, ts in s.get("targets", {}).items()]
    unknown = [[u["target"], u["method"], u["status_code"], u["count"], " ".join(u["examples"])]
               for u in s.get("unknown_routes", [])]
    failures = [[f["target"], f["method"], _s(f["route"]) or "?", _s(f["error"]), f["count"]]
                for f in s.get("proxy_failures", [])]
    denied = [[_s(d["user_agent"]), _s(d["client"]), d["method"], _s(d["route"]) or "?",
               "would be (dry run)" if d["dry_run"] else "denied", d["count"]]
              for d in s.get("denied", [])]
    clients = [[c["client"] or "(no user-agent)", _s(c["version"]), _s(c["process"]) or "-",
                c["exchanges"], " ".join(f"{k or '(none)'}:{n}" for k, n in c["api_versions"].items()),
                " ".join(f"{k}:{n}" for k, n in c["status_codes"].items())]
               for c in s.get("clients", [])]
    sve = [[v["method"], v["route"], _counts(v["engine"]), _counts(v["swarm"]),
            _codes(v["only_engine"]), _codes(v["only_swarm"])]
           for v in s.get("swarm_vs_engine", [])]
    return {
        "Undocumented codes (observed, not in the table)":
            (["target", "method", "route", "code", "count", "documented"], undoc),
        "Documented codes never observed": (["target", "method", "route", "codes"], unobs),
        "Coverage of the documented tables":
            (["target", "tables", "routes exercised", "share", "codes observed", "share",
              "routes never exercised"], never),
        "Unknown routes (no table knows them)":
            (["target", "method", "status", "count", "example paths"], unknown),
        "Proxy-side failures (no server status; not counted as codes)":
            (["target", "method", "route", "error", "count"], failures),
        "Denied by an allowlist (dockdrift's 403, not counted as codes)":
            (["user agent", "client", "method", "route", "refused", "count"], denied),
        "Clients (User-Agent; process where the kernel told it)":
            (["client", "version", "process", "exchanges", "API versions", "status codes"],
             clients),
        "Swarm vs Engine (routes seen on both)":
            (["method", "route", "engine", "swarm", "only engine", "only swarm"], sve),
        **outcomes.sections(report),
        **shape_sections(report),
    }


def _counts(d: dict) -> str:
    return " ".join(f"{k}×{v}" for k, v in d.items()) or "-"


def to_text(report: Report, use_color: bool = False) -> str:
    def paint(text: str, code: str | None) -> str:
        return render.color(text, code, use_color)

    rows = [[r.target, r.method, r.route, _observed_cell(r, paint),
             paint(_codes(r.undocumented), "bold-red") if r.undocumented else "-",
             paint(_codes(r.unobserved), "dim") if r.unobserved else "-",
             _pct(r.coverage) + ("" if r.in_table else paint(" (not in table)", "yellow"))]
            for r in report.routes.itertuples()]
    out = [paint("dockdrift report", "bold") + "  " + _headline(report), "",
           render.text_table(["TARGET", "METHOD", "ROUTE", "OBSERVED (code×count)",
                              "UNDOCUMENTED", "NEVER SEEN", "COVERAGE"], rows)]
    for title, (headers, body) in _findings(report).items():
        if body:
            out += ["", paint(title, "bold"), render.text_table([h.upper() for h in headers],
                                                               [[str(c) for c in r] for r in body])]
    verdict = _verdict(report)
    out += ["", paint(verdict, "bold-red" if report.has_undocumented else "bold-green")]
    return "\n".join(out) + "\n"


def to_markdown(report: Report) -> str:
    rows = [[r.target, r.method, f"`{r.route}`", _counts(r.observed), _codes(r.documented),
             f"**{_codes(r.undocumented)}**" if r.undocumented else "-", _codes(r.unobserved),
             _pct(r.coverage)] for r in report.routes.itertuples()]
    out = ["# dockdrift report", "", _headline(report), "", f"**{_verdict(report)}**", "",
           render.md_table(["target", "method", "route", "observed", "documented",
                            "undocumented", "never seen", "coverage"], rows)]
    for title, (headers, body) in _findings(report).items():
        out += ["", f"## {title}", ""]
        out.append(render.md_table(headers, body) if body else "_none_")
    return "\n".join(out) + "\n"


def to_csv(report: Report) -> str:
    """Long format: one row per (target, method, route, code) with its finding."""
    rows = []
    for r in report.routes.itertuples():
        for code, n in r.observed.items():
            kind = "undocumented" if code in r.undocumented else (
                "documented" if code in r.documented else "absent-404")
            rows.append([r.target, r.method, r.route, _s(r.handler), code, n, kind])
        rows += [[r.target, r.method, r.route, _s(r.handler), c, 0, "unobserved"]
                 for c in r.unobserved]
    for u in report.summary.get("unknown_routes", []):
        rows.append([u["target"], u["method"], None, None, u["status_code"], u["count"],
                     "unknown-route"])
    if "stream_errors" in report.routes:
        for r in report.routes.itertuples():
            rows += [[r.target, r.method, r.route, _s(r.handler), c, n, "stream-error"]
                     for c, n in r.stream_errors.items()]
            rows += [[r.target, r.method, r.route, _s(r.handler), c, n, "exit-status"]
                     for c, n in r.exit_codes.items()]
    for f in report.summary.get("proxy_failures", []):
        rows.append([f["target"], f["method"], f["route"], None, None, f["count"],
                     "proxy-failure"])
    for d in report.summary.get("denied", []):
        rows.append([None, d["method"], d["route"], None, None if d["dry_run"] else 403,
                     d["count"], "would-be-denied" if d["dry_run"] else "denied"])
    return render.to_csv(["target", "method", "route", "handler", "status_code", "count",
                          "finding"], rows)


def to_json(report: Report) -> str:
    from dockdrift.db.version import version_info

    return render.to_json(report.to_dict() | {"dockdrift": version_info()})


FORMATS: dict[str, Callable[..., str]] = {
    "text": to_text, "markdown": to_markdown, "json": to_json, "csv": to_csv,
}


def _route_badges(r: object) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    obs = [(f"{c} ×{n}", "undocumented" if c in r.undocumented else "documented")  # type: ignore
           for c, n in r.observed.items()]  # type: ignore[attr-defined]
    return obs, [(str(c), "unobserved") for c in r.unobserved]  # type: ignore[attr-defined]


def _cards(report: Report) -> list[tuple[str, object, str]]:
    s = report.summary
    cards = [("answered exchanges", s.get("answered", 0), ""),
             ("routes seen", s.get("routes_seen", 0), ""),
             ("undocumented codes", s.get("undocumented_codes", 0),
              "bad" if report.has_undocumented else "good")]
    for t, ts in s.get("targets", {}).items():
        cards.append((f"{t}: documented routes exercised", _pct(ts["route_coverage"]), ""))
        cards.append((f"{t}: documented codes observed", _pct(ts["code_coverage"]), ""))
    cards += [("unknown routes", len(s.get("unknown_routes", [])), ""),
              ("proxy-side failures", s.get("proxy_failed", 0), "")]
    return cards


def _routes(report: Report) -> list[dict]:
    return [{"target": r.target, "method": r.method, "route": r.route, "in_table": r.in_table,
             "handler": _s(r.handler), "observed": _route_badges(r)[0],
             "unobserved": _route_badges(r)[1], "coverage": _pct(r.coverage)}
            for r in report.routes.itertuples()]


def _finding(report: Report, title: str, headers: list[str], body: list) -> dict:
    """One findings section for the template: its table, or a line when it is empty, and
    the coverage and Swarm sections' charts."""
    from dockdrift.analysis import plots
    from dockdrift.render.html import figure_to_data_uri as uri

    f = {"title": title, "headers": headers, "rows": body, "always": False, "empty": "none",
         "never_exercised": [], "image": None, "alt": ""}
    if title.startswith("Coverage"):
        f |= {"always": True, "image": uri(plots.coverage_bars(report.summary)),
              "alt": "coverage", "never_exercised": [
                  (t, ts["never_exercised"]) for t, ts in report.summary.get("targets", {}).items()
                  if ts["never_exercised"]]}
    elif title.startswith("Swarm"):
        f["empty"] = "No route was seen on both Engine and Swarm."
        if body:
            f |= {"image": uri(plots.swarm_vs_engine(report.swarm_vs_engine)),
                  "alt": "swarm vs engine"}
    return f


def to_html(report: Report) -> str:
    """One self-contained page: verdict, cards, drift first, heat map, tables, charts."""
    from dockdrift.analysis import plots
    from dockdrift.render.html import figure_to_data_uri as uri
    from dockdrift.render.html import page

    findings = _findings(report)
    first = next(iter(findings))  # the undocumented codes: the drift, shown first
    return page("report.html", "dockdrift report", _headline(report),
                verdict=_verdict(report), cards=_cards(report),
                verdict_kind="undocumented" if report.has_undocumented else "documented",
                first=_finding(report, first, *findings.pop(first)),
                heatmap=uri(plots.heatmap(report.routes)), routes=_routes(report),
                findings=[_finding(report, t, h, b) for t, (h, b) in findings.items()],
                route_bars=uri(plots.route_bars(report.routes)))


FORMATS["html"] = to_html
