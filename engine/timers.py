"""The sweep: fire due timers (one instance per transaction), record SLA breaches, e-mail."""

from __future__ import annotations

import logging

from .engine import Engine
from .errors import Conflict, NotFound
from .mailer import Mailer

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
        fired = self._start_due_processes()
        with self.engine.read() as services:
            if not services.runtime.due_timers(limit=1):
                return fired  # on SQLite, an idle sweep takes no write lock
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

    def _start_due_processes(self) -> int:
        """Start an instance for each due timer start event (a cycle's next is rescheduled)."""
        with self.engine.read() as services:
            if self.engine.start_timers(services.session).next_due(lock=False) is None:
                return 0
        started = 0
        for _ in range(self.batch):
            with self.engine.write() as services:
                starts = self.engine.start_timers(services.session)
                if services.runtime.fire_next_start_timer(starts) is None:
                    break
            started += 1
        return started

    def run_sla_once(self) -> tuple[int, int]:
        """Record breaches of tasks past due, then e-mail pending notifications."""
        with self.engine.write() as services:
            breaches = services.sla.detect_breaches()
        sent = 0
        smtp = self.engine.settings.smtp
        if smtp is not None:
            with self.engine.write() as services:
                sent = Mailer(services.session, self.engine.clock, smtp).send_pending()
        return breaches, sent

    def tick(self) -> None:
        """One scheduler beat: timers first (they may complete tasks), then SLAs.

        A full batch means more may be due: sweep again at once rather than wait.
        """
        while self.run_once() >= self.batch:
            pass
        self.run_sla_once()
