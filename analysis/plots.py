"""Charts of a comparison (the DataFrames of `analysis.compare`), matplotlib OO API, Agg.

Every function takes `ax=None` and returns the Figure it drew on, so callers can embed it
(render.figure_to_data_uri) or compose several on their own axes.
"""

from __future__ import annotations

from typing import cast

import matplotlib

matplotlib.use("Agg")  # headless: reports are written by cron jobs and CI, never shown
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
import pandas as pd  # noqa: E402

# Colours used by every HTML page and chart, so the legend means the same everywhere.
PALETTE = {"documented": "#2b8a3e", "undocumented": "#d6336c", "unobserved": "#adb5bd",
           "observed": "#1c7ed6", "muted": "#868e96", "swarm": "#f59f00", "engine": "#1c7ed6"}


def _axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return cast(Figure, ax.figure), ax
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def route_labels(routes: pd.DataFrame) -> list[str]:
    """`METHOD route`, prefixed with the target when more than one target is shown."""
    multi = routes["target"].nunique() > 1
    return [(f"{t} · " if multi else "") + f"{m} {r}"
            for t, m, r in zip(routes["target"], routes["method"], routes["route"], strict=True)]


def _empty(ax: Axes | None, text: str) -> Figure:
    fig, ax = _axes(ax, 6, 1.2)
    ax.text(0.5, 0.5, text, ha="center", va="center", color=PALETTE["muted"])
    ax.set_axis_off()
    return fig


def heatmap(routes: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Route × status: blue = observed and documented (shade: count), red = observed but
    undocumented, grey hatching = documented but never observed; green frame = documented."""
    if routes.empty:
        return _empty(ax, "no exchanges with a known route")
    codes = sorted({c for o in routes["observed"] for c in o}
                   | {c for d in routes["documented"] for c in d})
    fig, ax = _axes(ax, 2.6 + 0.62 * len(codes) + 0.075 * max(map(len, route_labels(routes))),
                    1.4 + 0.34 * len(routes))
    counts = [n for o in routes["observed"] for n in o.values()]
    norm = LogNorm(vmin=1, vmax=max(max(counts), 2))
    blues = matplotlib.colormaps["Blues"]
    for y, r in enumerate(routes.itertuples()):
        errors = getattr(r, "stream_errors", None) or {}
        for x, code in enumerate(codes):
            n, doc = r.observed.get(code, 0), code in r.documented
            bad = code in r.undocumented
            _cell(ax, x, y, n, doc, bad, blues(0.25 + 0.7 * norm(n)) if n else None)
            if n and errors.get(code):
                _split(ax, x, y, n, min(errors[code], n))
    ax.set_xlim(-0.5, len(codes) - 0.5)
    ax.set_ylim(len(routes) - 0.5, -0.5)
    ax.set_xticks(range(len(codes)), [str(c) for c in codes])
    labels = [lab + ("" if known else "  (not in table)")
              for lab, known in zip(route_labels(routes), routes["in_table"], strict=True)]
    ax.set_yticks(range(len(routes)), labels, fontsize=9)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("HTTP status code", fontsize=9, color=PALETTE["muted"])
    ax.tick_params(length=0)
    for label, in_table in zip(ax.get_yticklabels(), routes["in_table"], strict=True):
        if not in_table:  # no row in the table compared against: everything on it is drift
            label.set_color(PALETTE["undocumented"])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.legend(handles=_heatmap_legend(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, frameon=False)
    return fig


def _cell(ax: Axes, x: int, y: int, n: int, documented: bool, undocumented: bool,
          fill: object) -> None:
    if undocumented:
        ax.add_patch(Rectangle((x - .45, y - .42), .9, .84, color=PALETTE["undocumented"]))
        ax.text(x, y, f"{n}", ha="center", va="center", color="white", fontsize=8,
                fontweight="bold")
    elif n:
        ax.add_patch(Rectangle((x - .45, y - .42), .9, .84, color=fill))
        ax.text(x, y, f"{n}", ha="center", va="center", fontsize=8,
                color="white" if fill and sum(fill[:3]) < 1.6 else "black")
    elif documented:
        ax.add_patch(Rectangle((x - .45, y - .42), .9, .84, facecolor="white",
                               edgecolor=PALETTE["unobserved"], hatch="////", lw=0))
    if documented:
        ax.add_patch(Rectangle((x - .45, y - .42), .9, .84, fill=False,
                               edgecolor=PALETTE["documented"], lw=1.6))


STREAM_ERROR = "#f76707"


def _split(ax: Axes, x: int, y: int, n: int, with_error: int) -> None:
    """A 2xx cell split: the right part (its share) answered with an error in the stream."""
    width = max(0.9 * with_error / n, 0.12)
    ax.add_patch(Rectangle((x + .45 - width, y - .42), width, .84, color=STREAM_ERROR))
    for t in list(ax.texts):  # the cell's count becomes "clean|with error"
        if t.get_position() == (x, y):
            t.set_text(f"{n - with_error}|{with_error}")
            t.set_fontsize(7)


def _heatmap_legend() -> list[Patch]:
    return [
        Patch(facecolor=STREAM_ERROR, label="2xx with an error in its stream (clean|error)"),
        Patch(facecolor=matplotlib.colormaps["Blues"](0.6), edgecolor=PALETTE["documented"],
              lw=1.6, label="observed, documented (count)"),
        Patch(facecolor=PALETTE["undocumented"], label="observed, NOT documented"),
        Patch(facecolor="white", edgecolor=PALETTE["unobserved"], hatch="////",
              label="documented, never observed"),
        Patch(facecolor="white", edgecolor=PALETTE["documented"], lw=1.6,
              label="green frame: documented"),
    ]


def route_bars(routes: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Exchanges per route, split into documented (green) and undocumented (red) answers."""
    if routes.empty:
        return _empty(ax, "no exchanges with a known route")
    labels = route_labels(routes)
    bad = [sum(o[c] for c in u)
           for o, u in zip(routes["observed"], routes["undocumented"], strict=True)]
    total = [sum(o.values()) for o in routes["observed"]]
    good = [t - b for t, b in zip(total, bad, strict=True)]
    fig, ax = _axes(ax, 4 + 0.075 * max(map(len, labels)), 1.2 + 0.3 * len(routes))
    ys = range(len(routes))
    ax.barh(ys, good, color=PALETTE["documented"], label="documented code")
    ax.barh(ys, bad, left=good, color=PALETTE["undocumented"], label="undocumented code")
    for y, t in zip(ys, total, strict=True):
        ax.text(t, y, f" {t}", va="center", fontsize=8)
    ax.set_yticks(list(ys), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("exchanges")
    if max(total) > 50 * max(1, min(total)):
        ax.set_xscale("log")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def swarm_vs_engine(sve: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """For routes seen on both targets: exchanges per status code, Engine and Swarm side by side."""
    if sve.empty:
        return _empty(ax, "no route was seen on both Engine and Swarm")
    pairs = [(f"{m} {r}  {c}", e.get(c, 0), s.get(c, 0))
             for m, r, e, s in zip(sve["method"], sve["route"], sve["engine"], sve["swarm"],
                                   strict=True)
             for c in sorted(set(e) | set(s))]
    fig, ax = _axes(ax, 4 + 0.075 * max(len(p[0]) for p in pairs), 1.2 + 0.36 * len(pairs))
    ys = range(len(pairs))
    ax.barh([y - 0.2 for y in ys], [p[1] for p in pairs], height=0.4, color=PALETTE["engine"],
            label="Engine")
    ax.barh([y + 0.2 for y in ys], [p[2] for p in pairs], height=0.4, color=PALETTE["swarm"],
            label="Swarm")
    ax.set_yticks(list(ys), [p[0] for p in pairs], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("exchanges")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def coverage_bars(summary: dict, ax: Axes | None = None) -> Figure:
    """Share of documented routes and codes exercised, per target."""
    targets = summary.get("targets", {})
    if not targets:
        return _empty(ax, "nothing to cover")
    fig, ax = _axes(ax, 5, 0.6 + 0.3 * len(targets) * 2)
    labels, values = [], []
    for t, s in targets.items():
        labels += [f"{t}: routes", f"{t}: codes"]
        values += [s["route_coverage"] or 0.0, s["code_coverage"] or 0.0]
    ys = range(len(labels))
    ax.barh(ys, [1.0] * len(labels), color="#e9ecef")
    ax.barh(ys, values, color=PALETTE["observed"])
    for y, v in zip(ys, values, strict=True):
        ax.text(min(v, 0.9), y, f" {v:.0%}", va="center", fontsize=9)
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("documented and exercised")
    ax.spines[["top", "right"]].set_visible(False)
    return fig
