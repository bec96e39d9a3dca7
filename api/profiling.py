"""A profile of the requests a server worker runs, switched on by an environment variable.

``SERTIFLOW_PROFILE=/some/folder`` makes each worker of ``sertiflow serve`` run every
request under :mod:`cProfile` (one profiler per thread: a profiler sees only the
thread that enables it) and write the sum of what it saw to
``/some/folder/requests-<pid>.prof`` every :data:`DUMP_EVERY` requests. Read it with
``python -m pstats``, or ``pstats.Stats(path).sort_stats("cumulative")``. The profile
costs time itself (about as much again for pure-Python code), so its shares count,
not its durations. Off by default; for benchmarks (``bench/sop.py`` passes it on).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

VARIABLE = "SERTIFLOW_PROFILE"
#: Requests between two writes of the profile file.
DUMP_EVERY = 200

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ProfiledApp:
    """A WSGI app that profiles each call of ``app`` in the calling thread."""

    def __init__(self, app: WsgiApp, folder: Path) -> None:
        self.app = app
        self.path = folder / f"requests-{os.getpid()}.prof"
        folder.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self._count = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        profile: cProfile.Profile | None = getattr(self._local, "profile", None)
        if profile is None:
            profile = self._local.profile = cProfile.Profile()
            with self._lock:
                self._profiles.append(profile)
        profile.enable()
        try:
            # The body is made inside: a Flask response is a list by then.
            return list(self.app(environ, start_response))
        finally:
            profile.disable()
            with self._lock:
                self._count += 1
                if self._count % DUMP_EVERY == 0:
                    self.dump()

    def dump(self) -> None:
        """Write what every thread's profiler saw so far (called under the lock)."""
        stats: pstats.Stats | None = None
        for profile in self._profiles:
            profile.create_stats()
            if not getattr(profile, "stats", None):
                continue
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
        if stats is not None:
            stats.dump_stats(str(self.path))


def profiled(app: WsgiApp) -> WsgiApp:
    """``app`` under the profiler when :data:`VARIABLE` names a folder, else ``app``."""
    folder = os.environ.get(VARIABLE)
    return ProfiledApp(app, Path(folder)) if folder else app
