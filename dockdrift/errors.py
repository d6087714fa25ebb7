"""The one error class a command raises for a user mistake, and the one place that turns any
error a user can cause into an exit code and one line (dockdrift.cli.main calls `user_error`).

`UsageError` is defined at the bottom (dockdrift.db.errors) so storage and analysis raise the
same class (their StoreError and AnalysisError are subclasses); commands and the proxy side
import it from here.
"""

from __future__ import annotations

import sys

from dockdrift.db.errors import UsageError

__all__ = ["EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_NOT_ENOUGH_DATA", "EXIT_USAGE",
           "UsageError", "read_error", "user_error"]

# The exit-code contract (docs/exit-codes.md), named once for every command.
EXIT_FINDINGS = 1         # drift, undocumented codes, refused clients found
EXIT_USAGE = 2            # usage or input error: one line on stderr
EXIT_NOT_ENOUGH_DATA = 3  # not enough data to decide (--allow-empty: 0)
EXIT_INTERRUPTED = 130    # Ctrl-C: what was committed stays


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

    2: usage or input (any UsageError: StoreError, AnalysisError, InputError such as a table
    version or an implementation that does not exist; a database error while reading `db`; a
    file that cannot be read or written). A UsageError may carry another code.
    """
    if isinstance(exc, UsageError):
        return exc.exit_code, str(exc)
    if _is(exc, "sqlalchemy.exc", "SQLAlchemyError"):
        from dockdrift.db.engine import server_hint

        raw = str(getattr(exc, "orig", None) or exc)
        return EXIT_USAGE, f"cannot read {db or 'the store'}: {server_hint(raw)}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return EXIT_USAGE, f"cannot use {exc.filename}: {exc.strerror or exc}"
    return None
