"""Run a slow query in a thread while the caller imports pandas or runs another query."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def background(fn: Callable[..., T], *args: object) -> Callable[[], T]:
    """Start fn(*args) in a daemon thread (an interrupted command does not wait for it);
    returns a function that waits for the result or raises fn's exception."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"dockdrift-{fn.__name__}", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]
    return result
