"""Analysis's input errors: a bad time, window, duration or config file the user can fix, or a
name that matches nothing the store or the tables hold (an `--against` table version, an
implementation label: InputError, whose message lists what exists).

Subclasses of the common UsageError (dockdrift.db.errors), so a command ends with the one-line
message and exit 2 without analysis knowing about commands.
"""

from dockdrift.db.errors import UsageError


class AnalysisError(UsageError):
    """An input analysis cannot use; the message says what to write instead."""


class InputError(AnalysisError, ValueError):
    """The input names something that does not exist; the message says what does."""
