"""The timer sweep: fire due timers, one instance per transaction, until none is due."""

from __future__ import annotations

import logging

from .engine import Engine
from .errors import Conflict, NotFound

log = logging.getLogger(__name__)


class TimerSweep:
    """Fires due timers; several sweeps (threads or processes) may run at once.

    Each instance's due timers fire in a transaction of their own, which also
    writes the instance's next timers, so a crash in the middle of a sweep
    loses nothing: what was not committed is still due at the next sweep.
    """

    def __init__(self, engine: Engine, *, batch: int = 1000) -> None:
        self.engine = engine
        self.batch = batch

    def run_once(self) -> int:
        """Fire what is due now (at most ``batch`` instances); return how many instances."""
        with self.engine.read() as services:
            if not services.runtime.due_timers(limit=1):
                return 0  # on SQLite, an idle sweep takes no write lock
        fired = 0
        for _ in range(self.batch):
            try:
                with self.engine.write() as services:
                    count = services.runtime.fire_next_due()
            except (Conflict, NotFound) as exc:
                # A command moved the instance on meanwhile; its timers are re-projected.
                log.info("timer sweep skipped an instance: %s", exc)
                continue
            if count is None:
                break
            fired += 1 if count else 0
        return fired
