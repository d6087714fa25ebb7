"""Charts of a `Matrix`, matplotlib OO API, Agg; every function takes `ax=None`, returns a Figure."""

from __future__ import annotations

from dockdrift.analysis.matrix.core import Matrix
from dockdrift.analysis.plots import _axes, _empty
from dockdrift.analysis.plots import PALETTE
from matplotlib.figure import Figure
from matplotlib.axes import Axes


def pair_agreement(m: Matrix, ax: Axes | None = None) -> Figure:
    """For each pair of implementations: rows both answered, split into agree (green) and
    differ (red), with the share that agrees."""
    pairs = [p for p in m.summary.get("pairs", []) if p["rows"]]
    if not pairs:
        return _empty(ax, "no row was answered by two implementations")
    labels = [f"{p['a']}  ↔  {p['b']}" for p in pairs]
    fig, ax = _axes(ax, 4.5 + 0.07 * max(map(len, labels)), 1.0 + 0.45 * len(pairs))
    ys = range(len(pairs))
    agree = [p["agree"] for p in pairs]
    differ = [p["differ"] for p in pairs]
    ax.barh(ys, agree, color=PALETTE["documented"], label="agree")
    ax.barh(ys, differ, left=agree, color=PALETTE["undocumented"], label="differ")
    for y, p in zip(ys, pairs, strict=True):
        ax.text(p["rows"], y, f" {p['agreement']:.0%} agree", va="center", fontsize=8)
    ax.set_yticks(list(ys), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("rows (routes and probe cases) both implementations answered")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rows are counted, never halved
    ax.set_xlim(0, max(p["rows"] for p in pairs) * 1.25)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def verdict_grid(m: Matrix, ax: Axes | None = None, limit: int = 40,
                 labels_up_to: int = 40) -> Figure:
    """Rows × implementations (the first `limit` rows, disagreements first): a cell is
    coloured when that implementation answered the row: green when its codes are the row's
    most common answer, red when they are not (so on a row that differs the odd ones out
    stand out, whichever column they are in), grey on rows only one saw; with at most
    `labels_up_to` rows each cell names its codes (text is what costs time in matplotlib)."""
    rows = m.rows.head(limit)
    if rows.empty:
        return _empty(ax, "no rows")
    from dockdrift.analysis.matrix.core import row_name

    names = [row_name(r) for r in rows.itertuples()]
    fig, ax = _axes(ax, 2.5 + 1.3 * len(m.implementations) + 0.07 * max(map(len, names)),
                    1.2 + 0.28 * len(rows))
    for y, r in enumerate(rows.itertuples()):
        usual = _most_common(r.observed, r.exit_codes)
        for x, label in enumerate(m.implementations):
            if label in r.observed:
                answer = _answer(r.observed, r.exit_codes, label)
                colour = (PALETTE["muted"] if r.verdict == "only_in" else
                          PALETTE["documented"] if r.verdict == "agree" or answer == usual
                          else PALETTE["undocumented"])
                ax.add_patch(_box(x, y, colour))
                if len(rows) <= labels_up_to:
                    ax.text(x, y, " ".join(map(str, r.observed[label])), ha="center",
                            va="center", fontsize=7, color="white")
    ax.set_xlim(-0.5, len(m.implementations) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(m.implementations)), m.implementations, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def _answer(observed: dict, exits: dict, label: str) -> tuple:
    return (frozenset(observed[label]), frozenset((exits or {}).get(label) or ()))


def _most_common(observed: dict, exits: dict) -> tuple | None:
    """The answer (codes, exit statuses) most implementations gave; None on a tie for first."""
    from collections import Counter

    counts = Counter(_answer(observed, exits, label) for label in observed).most_common(2)
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _box(x: int, y: int, colour: str):  # noqa: ANN202 - a matplotlib Rectangle
    from matplotlib.patches import Rectangle

    return Rectangle((x - .46, y - .4), .92, .8, color=colour)
