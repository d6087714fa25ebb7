"""The root of dockdrift's input errors, at the bottom layer so every layer can raise one.

A `UsageError` is a mistake the user can fix (a path, a URL, a time, a table version): its
message is one line saying what to do, and a command ends with it on stderr and exit 2.
Storage raises `StoreError`; analysis its own subclass (analysis.errors); the commands and the
proxy side import `UsageError` from dockdrift.errors, which is this class.
"""


class UsageError(Exception):
    exit_code = 2


class StoreError(UsageError):
    """A store problem the user can fix; the message says what and what to do."""
