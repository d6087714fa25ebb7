"""The one error class a command raises for a user mistake: message says what to do; exit 2.

`UsageError` is defined at the bottom (dockdrift.db.errors) so storage and analysis raise the
same class (their StoreError and AnalysisError are subclasses); commands and the proxy side
import it from here.
"""

from dockdrift.db.errors import UsageError

__all__ = ["UsageError", "read_error"]


def read_error(db: str, exc: BaseException) -> UsageError:
    """A database error while a command reads `db` -> the one line it ends with."""
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return UsageError(f"cannot read {db}: {msg}")
