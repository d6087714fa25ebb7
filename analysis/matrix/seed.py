"""The source document's own layout for two implementations (`--format seed`).

The source document (Docker docs v1.11, "API response codes (Swarm)") lists, per method,
each route with its handler and one line per status code: the code under each column that
has it. Here the columns are any two implementations and the codes are the ones they really
answered (passive traffic and probe cases together), so the original table can be
regenerated from real answers. Columns are padded, so an empty cell stays visible.

A cell says `no this api` (the document's words) when that implementation never answered the
route and its documented table lists the route as not an API (n/a); `not observed` when it
never answered the route otherwise. Routes are in the source document's order, then the
others sorted; the handler is the source document's when it lists the route.
"""

from __future__ import annotations

import pandas as pd

from dockdrift.db import tables

METHODS = ["GET", "POST", "PUT", "DELETE"]
NO_API = "no this api"
NOT_OBSERVED = "not observed"


def _document_order() -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], str | None]]:
    """(method, route) -> its position in the source document, and its handler there."""
    rows = tables.read_seed()
    return ({(r.method, r.route): i for i, r in enumerate(rows)},
            {(r.method, r.route): r.handler for r in rows})


def seed_rows(rows: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """One row per (method, route) either of `a`, `b` answered: method, route, handler, and
    the codes of each (`a_codes`, `b_codes`: sorted lists, None when it never answered it).
    `a_absent`/`b_absent`: its documented table lists the route as not an API (n/a).
    """
    order, handlers = _document_order()
    merged: dict[tuple[str, str], dict] = {}
    for r in rows.itertuples():
        if r.route is None or not (a in r.observed or b in r.observed):
            continue
        m = merged.setdefault((r.method, r.route), {"a": None, "b": None, "handler": r.handler,
                                                    "a_absent": False, "b_absent": False})
        for side, label in (("a", a), ("b", b)):
            m[f"{side}_absent"] |= label in r.documented_absent
            if label in r.observed:
                m[side] = sorted(set(m[side] or ()) | set(r.observed[label]))
    out = []
    for (method, route), m in merged.items():
        out.append({"method": method, "route": route,
                    "handler": handlers.get((method, route)) or m["handler"] or "-",
                    "a_codes": m["a"], "b_codes": m["b"],
                    "a_absent": m["a_absent"], "b_absent": m["b_absent"]})
    cols = ["method", "route", "handler", "a_codes", "b_codes", "a_absent", "b_absent"]
    df = pd.DataFrame(out, columns=cols)
    rank = [METHODS.index(m) if m in METHODS else len(METHODS) for m in df["method"]]
    pos = [order.get((m, r), len(order)) for m, r in zip(df["method"], df["route"], strict=True)]
    df = df.assign(_m=rank, _method=df["method"], _p=pos, _r=df["route"])
    return df.sort_values(["_m", "_method", "_p", "_r"]).drop(
        columns=["_m", "_method", "_p", "_r"]).reset_index(drop=True)


def _lines(codes_a: list | None, codes_b: list | None, absent_a: bool, absent_b: bool,
           width: int) -> list[str]:
    union = sorted(set(codes_a or ()) | set(codes_b or ()))

    def cell(codes: list | None, absent: bool, code: int) -> str:
        if codes is None:
            return NO_API if absent else NOT_OBSERVED
        return str(code) if code in codes else ""

    return [(cell(codes_a, absent_a, c).ljust(width) + cell(codes_b, absent_b, c)).rstrip()
            for c in union]


def to_seed_text(seed: pd.DataFrame, a: str, b: str, intro: str = "") -> str:
    """The layout of status-code-comparison-to-docker.txt for `seed_rows`."""
    head_a, head_b = f"{a} Status Code", f"{b} Status Code"
    width = len(head_a) + 3
    out = [f"API response codes ({a} vs {b})", ""]
    if intro:
        out += [intro, ""]
    method = None
    for r in seed.itertuples():
        if r.method != method:
            if method is not None:
                out.append("")
            method = r.method
            out += [method, ""]
        out += [f"  • Route: {r.route}", f"  • Handler: {r.handler}",
                head_a.ljust(width) + head_b]
        out += _lines(r.a_codes, r.b_codes, r.a_absent, r.b_absent, width)
    return "\n".join(out) + "\n"


def parse_seed_text(text: str) -> list[dict]:
    """`to_seed_text` back into rows (method, route, handler, a_codes, b_codes): the
    round-trip check, and a reader for tables written by `--format seed`."""
    rows: list[dict] = []
    method, width = None, 0
    for line in text.splitlines():
        s = line.strip()
        if s in METHODS or (s.isalpha() and s.isupper()):
            method = s
        elif s.startswith("• Route:"):
            rows.append({"method": method, "route": s.split(":", 1)[1].strip(),
                         "a_codes": [], "b_codes": []})
        elif s.startswith("• Handler:"):
            rows[-1]["handler"] = s.split(":", 1)[1].strip()
        elif s.endswith("Status Code") and rows:
            width = line.index(" Status Code") + len(" Status Code") + 3
        elif rows and s:
            for side, cell in (("a_codes", line[:width].strip()), ("b_codes", line[width:].strip())):
                if cell.isdigit():
                    rows[-1][side].append(int(cell))
                elif cell in (NO_API, NOT_OBSERVED):
                    rows[-1][side] = cell
    return rows
