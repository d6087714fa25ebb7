"""What a writer says when its queue is full and when it has room again: one wording for
BatchWriter (db.writer) and the proxy side of the writer process (db.sink). No SQLAlchemy here:
the proxy process imports it."""

from __future__ import annotations

from typing import Any


def refuse(writer: Any) -> bool:
    """A writer's queue is full: count the exchange as lost and say so loudly (the first and
    every thousandth time)."""
    writer._overflowing = True
    writer.dropped += 1
    if writer.dropped == 1 or writer.dropped % 1000 == 0:
        writer._on_error(f"dockdrift: store queue full ({writer.max_queue} rows waiting,"
                         f" last error: {writer.last_error}); {writer.dropped} exchanges NOT "
                         "recorded so far")
    return False


def taken(writer: Any) -> bool:
    """An exchange was queued: after an overflow, say the queue has room again."""
    if writer._overflowing:
        writer._overflowing = False
        writer._on_error(f"dockdrift: store queue has room again; {writer.dropped} exchanges "
                         "NOT recorded so far")
    return True
