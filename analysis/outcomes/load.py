"""SQL aggregates of the outcome columns (stream_error, stream_error_count, exit_code).

Each query reads only the rows that carry an outcome (`stream_error_count IS NOT NULL`:
scanned message streams and /wait answers; `exit_code IS NOT NULL`), which SQLite serves
from the partial indexes ix_exchanges_streams / ix_exchanges_exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, case, func, select

from dockdrift.analysis.load import Filter, _frame
from dockdrift.db.models import Exchange

if TYPE_CHECKING:
    import pandas as pd

KEYS = ["target", "method", "route"]
STREAM_COLUMNS = [*KEYS, "status_code", "answers", "with_error"]
MESSAGE_COLUMNS = [*KEYS, "stream_error", "count"]
EXIT_COLUMNS = [*KEYS, "exit_code", "count"]
ALL = Filter()


def _keys() -> list:
    return [Exchange.target, Exchange.method, Exchange.route]


def stream_error_counts(engine: Engine, flt: Filter = ALL) -> pd.DataFrame:
    """Per (target, method, route, status_code): answers whose outcome was looked for
    (a scanned stream or a /wait body) and how many of them carried an error."""
    cols = [*_keys(), Exchange.status_code]
    with_error = func.sum(case((Exchange.stream_error_count > 0, 1), else_=0))
    stmt = (select(*cols, func.count(), with_error)
            .where(and_(Exchange.stream_error_count.is_not(None), *flt.where()))
            .group_by(*cols))
    df = _frame(engine, stmt, STREAM_COLUMNS)
    return df.astype({"answers": "int64", "with_error": "int64"})


def stream_error_messages(engine: Engine, flt: Filter = ALL) -> pd.DataFrame:
    """Per (target, method, route, stream_error): how often each first error was stored
    (NULL stream_error: the text was withheld, a credential-carrying route)."""
    cols = [*_keys(), Exchange.stream_error]
    stmt = (select(*cols, func.count())
            .where(and_(Exchange.stream_error_count.is_not(None),
                        Exchange.stream_error_count > 0, *flt.where()))
            .group_by(*cols))
    return _frame(engine, stmt, MESSAGE_COLUMNS).astype({"count": "int64"})


def exit_code_counts(engine: Engine, flt: Filter = ALL) -> pd.DataFrame:
    """Per (target, method, route, exit_code): the exit statuses clients were told."""
    cols = [*_keys(), Exchange.exit_code]
    stmt = (select(*cols, func.count())
            .where(and_(Exchange.exit_code.is_not(None), *flt.where()))
            .group_by(*cols))
    return _frame(engine, stmt, EXIT_COLUMNS).astype({"count": "int64", "exit_code": "int64"})
