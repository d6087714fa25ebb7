"""Outcomes beyond the status line: errors inside 2xx streams and exit statuses told to clients.

An *outcome* is the status code plus, where the recorder found one, `error in stream` (a
build, pull, push, load or import that answered 200 and failed inside its stream, or a
/wait whose Error was set) or the exit status (`/containers/{id}/wait`, a finished exec).

- `load`: the SQL aggregates (GROUP BY; partial indexes keep them to the few rows concerned)
- `report`: the per-route figures attached to a `dockdrift report` and its sections
- `drift`: `stream_error_shift` and `exit_code_shift` candidates for `dockdrift drift`
"""

from dockdrift.analysis.outcomes.load import exit_code_counts, stream_error_counts, stream_error_messages

__all__ = ["exit_code_counts", "stream_error_counts", "stream_error_messages"]
