"""`dockdrift clients` and `dockdrift upgrade` as text, Markdown, HTML and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from dockdrift.analysis.clients import Client, Clients
from dockdrift.render.base import md_table, text_table
from dockdrift.render.html import page
from dockdrift.analysis.upgrade import Upgrade

CLIENT_HEADERS = ["client", "process", "exchanges", "routes", "API versions", "status codes",
                  "first seen", "last seen"]
UPGRADE_HEADERS = ["client", "process", "verdict", "why", "examples"]


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{k or '(none)'}:{n}" for k, n in sorted(counts.items()))


def process_label(c: Client) -> str:
    """`docker (pid 4242, uid 1000)`; several pids are counted, not listed."""
    if not c.process and not c.uids:
        return "-"
    ids = []
    if c.pids:
        ids.append(f"pid {next(iter(c.pids))}" if len(c.pids) == 1 else f"{len(c.pids)} pids")
    if c.uids:
        ids.append("uid " + ",".join(str(u) for u in sorted(c.uids)))
    return f"{c.process or '?'} ({', '.join(ids)})"


def client_rows(report: Clients) -> list[list[str]]:
    d = [(c, c.to_dict()) for c in report.clients]
    return [[c.label, process_label(c), str(x["exchanges"]), str(x["routes"]),
             _counts(x["api_versions"]), _counts(x["status_codes"]), x["first_seen"] or "",
             x["last_seen"] or ""] for c, x in d]


def clients_text(report: Clients) -> str:
    if not report.clients:
        return "no exchanges matched\n"
    return text_table(CLIENT_HEADERS, client_rows(report)) + "\n"


def clients_markdown(report: Clients) -> str:
    return "## Clients\n\n" + md_table(CLIENT_HEADERS, client_rows(report)) + "\n"


def clients_html(report: Clients) -> str:
    return page("table.html", "dockdrift clients",
                "who called the Docker API: client (User-Agent), process (kernel)",
                heading="Clients", headers=CLIENT_HEADERS, rows=client_rows(report))


def clients_json(report: Clients) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _examples(v: dict) -> str:
    return "; ".join(f"{e['method']} {e['path']}" for e in v["examples"][:3])


def upgrade_rows(up: Upgrade) -> list[list[str]]:
    return [[v.client.label, process_label(v.client), v.verdict,
             "; ".join(v.reasons) or "; ".join(v.notes), _examples(v.to_dict())]
            for v in up.verdicts]


def _heading(up: Upgrade) -> str:
    t = up.target
    rng = f"API {t.min_api or '?'} .. {t.max_api or '?'}"
    enforced = "" if t.enforced else " (not enforced: any version is served)"
    n = len(up.breaks)
    return (f"upgrade to {t.name}: {rng}{enforced}; {n} of {len(up.verdicts)} clients break"
            + (f"; routes checked against {up.documentation}" if up.documentation else ""))


def upgrade_text(up: Upgrade) -> str:
    return (f"{_heading(up)}\nsource: {up.target.source}\n\n"
            + text_table(UPGRADE_HEADERS, upgrade_rows(up)) + "\n")


def upgrade_markdown(up: Upgrade) -> str:
    return (f"## {_heading(up)}\n\nSource: {up.target.source}\n\n"
            + md_table(UPGRADE_HEADERS, upgrade_rows(up)) + "\n")


def upgrade_html(up: Upgrade) -> str:
    return page("table.html", f"dockdrift upgrade: {up.target.name}", _heading(up),
                heading="Clients", intro=f"Source: {up.target.source}", headers=UPGRADE_HEADERS,
                rows=upgrade_rows(up))


def upgrade_json(up: Upgrade) -> str:
    return json.dumps(up.to_dict(), indent=2) + "\n"


CLIENT_FORMATS: dict[str, Callable[[Clients], str]] = {
    "text": clients_text, "markdown": clients_markdown, "html": clients_html,
    "json": clients_json}
UPGRADE_FORMATS: dict[str, Callable[[Upgrade], str]] = {
    "text": upgrade_text, "markdown": upgrade_markdown, "html": upgrade_html,
    "json": upgrade_json}
