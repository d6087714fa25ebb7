"""Drift charts: code shares over time per flagged route, findings per saved run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dockdrift.analysis.drift.store import Window, choose_bucket, timeline  # noqa: E402
from dockdrift.analysis.load import Filter, time_bounds  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from sqlalchemy import Engine

KIND_COLORS = {"new_code": "#f59f00", "vanished_code": "#1098ad", "share_shift": "#ae3ec9",
               "newly_undocumented": "#d6336c", "stream_error_shift": "#f76707",
               "exit_code_shift": "#e8590c"}


def _bounds(engine: Engine, start: datetime | None, end: datetime | None
            ) -> tuple[datetime, datetime] | None:
    """Concrete bounds for an open window: the first/last exchange inside it."""
    if start is None or end is None:
        # two index lookups; time_span would count every row of the window as well
        first, last = time_bounds(engine, Filter(since=start, until=end))
        if first is None or last is None:
            return None
        start = start or first
        end = end or last + timedelta(seconds=1)
    return start, end


def share_timeline(df: pd.DataFrame, ax: Axes | None = None,
                   shade: list[tuple[datetime, datetime, str]] = ()) -> Figure:
    """Share of each status code per time bucket (rows: bucket, status_code, count)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 2.8))
    else:
        fig = ax.figure
    table = df.pivot_table(index="bucket", columns="status_code", values="count",
                           aggfunc="sum", fill_value=0)
    shares = table.div(table.sum(axis=1), axis=0)
    for code in shares.columns:
        ax.plot(shares.index, shares[code], marker="o", markersize=3, label=str(code))
    for start, end, label in shade:
        ax.axvspan(start, end, alpha=0.08, color="#1c7ed6" if label == "current" else "#868e96")
        ax.annotate(label, (start, 1.02), fontsize=8, color="#495057")
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share")
    ax.legend(title="status", fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.autofmt_xdate()
    return fig


def route_timelines(keys: list[tuple[str, str, str]], meta: dict, engine: Engine,
                    b_engine: Engine) -> tuple[dict[tuple, Figure], str]:
    """One timeline figure per flagged route; a note when a backend cannot bucket time."""
    base, cur = meta["baseline"], meta["current"]
    parts: list[tuple[Engine, Window, str]] = [(b_engine, base, "baseline"),
                                                (engine, cur, "current")]
    if b_engine is engine:  # one database: one continuous timeline across both windows
        same = cur.recorders if cur.recorders == base.recorders else ()  # else: everyone's
        parts = [(engine, Window(cur.db, base.start, cur.end, same), "both")]
    frames, shades = [], []
    try:
        for eng, w, label in parts:
            bounds = _bounds(eng, w.start, w.end)
            if bounds is None:
                continue
            size = choose_bucket((bounds[1] - bounds[0]).total_seconds())
            frames.append((label, timeline(eng, keys, bounds[0], bounds[1], size,
                                            w.recorders)))
    except NotImplementedError as exc:
        return {}, str(exc)
    if b_engine is engine:
        for w, name in ((base, "baseline"), (cur, "current")):
            bounds = _bounds(engine, w.start, w.end)
            if bounds is not None:
                shades.append((*bounds, name))
    figures = {}
    for key in keys:
        fig, axes = plt.subplots(1, len(frames) or 1, figsize=(9, 2.8), squeeze=False,
                                 sharey=True)
        for ax, (label, df) in zip(axes[0], frames, strict=False):
            sel = df[(df["target"] == key[0]) & (df["method"] == key[1]) & (df["route"] == key[2])]
            share_timeline(sel, ax, shades if label == "both" else [])
            if label != "both":
                ax.set_title(f"{label} ({meta[label].db})", fontsize=9)
        figures[key] = fig
    return figures, ""


def history_bars(runs: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Findings per saved run, stacked by kind, in the order the runs were saved."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 3))
    else:
        fig = ax.figure
    counts = pd.DataFrame([{k: sum(f["kind"] == k for f in r) for k in KIND_COLORS}
                           for r in runs["findings"]])
    labels = [f"#{i}\n{t:%m-%d %H:%M}"
              for i, t in zip(runs["id"], runs["created_at"], strict=True)]
    bottom = [0] * len(counts)
    for kind, colour in KIND_COLORS.items():
        ax.bar(labels, counts[kind], bottom=bottom, color=colour, label=kind)
        bottom = [b + v for b, v in zip(bottom, counts[kind], strict=True)]
    ax.set_ylabel("findings")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.tick_params(axis="x", labelsize=7)
    return fig
