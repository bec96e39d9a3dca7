"""The timer sweep: fire the timers that are due, each in its own transaction."""

from __future__ import annotations

import logging

from .engine import Engine
from .errors import Conflict, NotFound

log = logging.getLogger(__name__)


class TimerSweep:
    def __init__(self, engine: Engine, *, batch: int = 200) -> None:
        self.engine = engine
        self.batch = batch

    def run_once(self) -> int:
        """Fire every timer due now; return how many fired."""
        fired = 0
        with self.engine.read() as services:
            due = services.runtime.due_timers(self.batch)
        for timer_id in due:
            try:
                with self.engine.write() as services:
                    if services.runtime.fire_timer(timer_id):
                        fired += 1
            except (Conflict, NotFound) as exc:
                # Another command moved the instance on; the timer is re-projected there.
                log.info("timer %s skipped: %s", timer_id, exc)
        return fired
