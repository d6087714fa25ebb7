"""The one error class a command raises for a user mistake, and the one place that turns any
error a user can cause into an exit code and one line (dockdrift.cli.main calls it)."""

from __future__ import annotations

import sys


class UsageError(Exception):
    exit_code = 2


def read_error(db: str, exc: BaseException) -> UsageError:
    """A database error while a command reads `db` -> the one line it ends with."""
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return UsageError(f"cannot read {db}: {msg}")


def _is(exc: BaseException, module: str, name: str) -> bool:
    """isinstance without importing: a class whose module was never loaded raised nothing."""
    cls = getattr(sys.modules.get(module), name, None)
    return cls is not None and isinstance(exc, cls)


def user_error(exc: BaseException, db: str | None = None) -> tuple[int, str] | None:
    """(exit code, one line) for an error the user can fix; None for a bug (a traceback).

    2: usage or input (UsageError, a store problem, a table version or an implementation
    that does not exist, a database error while reading `db`, a file that cannot be read or
    written); a UsageError may carry another code (3: not enough data).
    """
    if isinstance(exc, UsageError):
        return exc.exit_code, str(exc)
    if _is(exc, "dockdrift.db.basics", "StoreError"):
        return 2, str(exc)
    if _is(exc, "dockdrift.analysis.errors", "InputError"):
        return 2, str(exc)
    if _is(exc, "sqlalchemy.exc", "SQLAlchemyError"):
        from dockdrift.db.engine import server_hint

        raw = str(getattr(exc, "orig", None) or exc)
        return 2, f"cannot read {db or 'the store'}: {server_hint(raw)}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return 2, f"cannot use {exc.filename}: {exc.strerror or exc}"
    return None
