"""The one error class a command raises for a user mistake: message says what to do; exit 2."""


class UsageError(Exception):
    exit_code = 2


def read_error(db: str, exc: BaseException) -> UsageError:
    """A database error while a command reads `db` -> the one line it ends with."""
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return UsageError(f"cannot read {db}: {msg}")
