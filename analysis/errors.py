"""Analysis's input errors: a bad time, window, duration or config file the user can fix.

A subclass of the common UsageError (dockdrift.db.errors), so a command ends with its one-line
message and exit 2 without analysis knowing about commands.
"""

from dockdrift.db.errors import UsageError


class AnalysisError(UsageError):
    """An input analysis cannot use; the message says what to write instead."""
