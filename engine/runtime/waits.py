"""Waits that a caller cannot afford: hand the work over instead of blocking.

The server runs requests in its event loop's thread, where they are cheapest
(no hand-over between threads); while one waits there, no other request of that
process is served. Most requests never wait long. Those that can (a command whose
script runs to its time limit, a command waiting for SQLite's writer while another
holds it or for a row another PostgreSQL transaction has locked, an upload's file
write) ask :func:`patience` before they wait: when their caller has set one
(:func:`impatient`) and the wait would be longer, they raise :class:`HandOver`
instead. The command's transaction rolls back with it, and the caller runs the whole
request again in a thread where waiting harms nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PATIENCE: ContextVar[float | None] = ContextVar("sertiflow_patience", default=None)


class HandOver(BaseException):
    """A wait longer than the caller's patience: roll back and run this elsewhere.

    A BaseException, so that the engine's handlers of failures (which turn an
    ``Exception`` in a script into an incident) let it pass to the caller.
    """


@contextmanager
def impatient(seconds: float) -> Iterator[None]:
    """Within the block, waits longer than ``seconds`` raise :class:`HandOver`."""
    token = _PATIENCE.set(seconds)
    try:
        yield
    finally:
        _PATIENCE.reset(token)


def patience() -> float | None:
    """How long the current caller may wait; None when it may wait as long as needed."""
    return _PATIENCE.get()
