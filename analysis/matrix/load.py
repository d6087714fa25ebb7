"""The matrix's one SQL aggregate: exchanges counted per implementation, request and outcome.

Memory follows the number of distinct groups (implementations x routes x cases x codes x
outcomes), never the number of exchanges: the store may hold tens of millions of rows.
SQLAlchemy Core only, so SQLite and PostgreSQL run the same statement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, func, not_, or_, select, true

from dockdrift.analysis.load import Filter, _frame
from dockdrift.db.dimensions import DIMENSIONS
from dockdrift.db.models import Exchange

if TYPE_CHECKING:
    import pandas as pd

    from dockdrift.analysis.matrix.core import Matrix

# A probe case's own requests are tagged with its name; its setup and cleanup requests with
# `<case>#setup` (anything after a `#` marks an auxiliary request).
AUX_MARK = "#"
COUNT_COLUMNS = ["target", "target_version", "min_api_version", "method", "route", "case",
                 "api_version", "status_code", "exit_code", "stream_error", "denied", "handler",
                 "count"]


def matrix_counts(engine: Engine, flt: Filter | None = None,
                  include_setup: bool = False, by_recorder: bool = False,
                  by: str | None = None) -> pd.DataFrame:
    """Exchanges per (target, target_version, min_api_version, method, route, case,
    api_version, status_code, exit_code, stream_error, denied): one GROUP BY over the filtered
    exchanges (min_api_version, the upstream's API floor, is part of the implementation).

    `case` is `probe_case` (NULL for passive traffic); `stream_error` is True when the stream
    carried an error; `denied` is True for requests an allowlist refused; a NULL status_code
    is a proxy-side failure. `handler` is MIN(handler) of the group (the route's handler).
    Setup and cleanup requests of a case (`<case>#setup`) are left out unless `include_setup`.
    `by_recorder` (or `by="recorder"`) adds a `recorder` column: each (implementation,
    recorder) is then a column of the matrix (`engine 26.1.5+dfsg1 @ ci-7`); `by="client"` a
    `client` column (the client family: `engine 28.5.2+dfsg4 @ docker-cli`).
    """
    # Plain columns in the order of the optional ix_exchanges_matrix (benchmarks/README.md; time windows
    # too): SQLite reads the groups off the index with no sort (0.55 s of CPU at 1M rows
    # instead of 6 s). The stream error's text is grouped as it is (rare rows, few distinct
    # texts) and turned into a flag in pandas: an `IS NOT NULL` term would need a sort again.
    # The dimensions' keys as declared (db.dimensions), then the answer's columns.
    keys = [*DIMENSIONS["implementation"].keys(), *DIMENSIONS["method"].keys(),
            *DIMENSIONS["route"].keys(), *DIMENSIONS["probe_case"].keys(),
            Exchange.api_version, Exchange.status_code, Exchange.exit_code,
            Exchange.stream_error, Exchange.denied]
    columns = COUNT_COLUMNS
    by = "recorder" if by_recorder else by
    if by in ("recorder", "client"):  # a section's name: the recorder, the client family
        keys.append(DIMENSIONS[by].keys()[0])
        columns = [*COUNT_COLUMNS[:-2], by, *COUNT_COLUMNS[-2:]]
    conds = list((flt or Filter()).where())
    if not include_setup:
        conds.append(or_(Exchange.probe_case.is_(None),
                         not_(Exchange.probe_case.contains(AUX_MARK, autoescape=True))))
    stmt = (select(*keys, func.min(Exchange.handler), func.count())
            .where(and_(true(), *conds))
            .group_by(*keys))
    df = _frame(engine, stmt, columns)
    df["count"] = df["count"].astype("int64")
    df["stream_error"] = df["stream_error"].notna()
    df["denied"] = df["denied"].fillna(False).astype(bool)
    return (df.groupby(columns[:-2], dropna=False, sort=False, as_index=False)
            .agg(handler=("handler", "min"), count=("count", "sum")))


def load_matrix(engine: object, flt: object = None, against: str = "own",
                implementations: list[str] | None = None, include_setup: bool = False,
                counts: object = None) -> Matrix:
    """Aggregate the store in SQL and build the Matrix (the analysis API; the CLI's core).

    `counts`: a function returning `load.matrix_counts(...)` already running (`background`).
    Raises AgainstError, UnknownImplementation.
    """
    from dockdrift.analysis.matrix.core import build_matrix
    from dockdrift.analysis.matrix.documented import check_against
    from dockdrift.analysis.report import documented_frame

    flt = flt or Filter()
    documented = documented_frame(engine)  # type: ignore[arg-type]
    check_against(against, documented)
    df = counts() if callable(counts) else matrix_counts(engine, flt,  # type: ignore
                                                         include_setup)
    extra = {"exchanges": int(df["count"].sum()), "include_setup": include_setup,
             "filter": {k: (str(v) if v is not None else None)
                        for k, v in vars(flt).items()}}
    m = build_matrix(df, documented, against, implementations, extra)
    from dockdrift.analysis.shapes import load_shapes
    from dockdrift.analysis.shapes import matrix as shapes
    from dockdrift.analysis.shapes.report import shapes_against

    return shapes.attach(m, load_shapes(engine, flt, shapes_against(against),  # type: ignore
                                        include_setup=include_setup))
