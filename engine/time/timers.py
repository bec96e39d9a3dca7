"""The sweep: fire due timers (one instance per transaction), record SLA breaches, e-mail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from engine.composition import Engine
from engine.errors import Conflict, NotFound
from engine.notifications.mailer import Mailer
from engine.notifications.outbox import purge

log = logging.getLogger(__name__)

# Breaches recorded per SLA check (one write transaction).
SLA_BATCH = 500
# How often the SLA check looks at every overdue open task, not only those that
# fell due since the last check: it catches a task that was already past due
# when it was created (a due date in the past).
FULL_SLA_SCAN = timedelta(minutes=10)
# Pending documents the sweep renders per beat, besides the renderer threads.
RENDERS_PER_TICK = 5
# How often old notifications are deleted (SERTIFLOW_NOTIFICATION_DAYS).
PURGE_EVERY = timedelta(hours=1)


class TimerSweep:
    """Fires due timers; several sweeps (threads or processes) may run at once.

    Each instance's due timers fire in a transaction of their own, which also
    writes the instance's next timers, so a crash in the middle of a sweep
    loses nothing: what was not committed is still due at the next sweep.
    """

    def __init__(self, engine: Engine, *, batch: int = 1000, sla_batch: int = SLA_BATCH) -> None:
        self.engine = engine
        self.batch = batch
        self.sla_batch = sla_batch
        # The SLA check looks only at tasks that fell due since the last check that
        # finished its batch, and at all of them every FULL_SLA_SCAN: open tasks
        # long past due (and already recorded) can be tens of thousands, and the
        # check runs every second in a write transaction.
        self._sla_checked_to: datetime | None = None
        self._sla_full_at: datetime | None = None
        self._purged_at: datetime | None = None

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
        """Record breaches of tasks past due, then e-mail pending notifications and digests.

        Old notifications are deleted (once an hour), whether SMTP is configured or not.
        """
        started = self.engine.clock.now()
        full = self._sla_full_at is None or started - self._sla_full_at >= FULL_SLA_SCAN
        with self.engine.write() as services:
            breaches = services.sla.detect_breaches(
                self.sla_batch, due_after=None if full else self._sla_checked_to)
        if breaches < self.sla_batch:
            # Everything due up to ``started`` is recorded; a full batch may have left
            # some, so the next check starts from the same point again.
            self._sla_checked_to = started
            if full:
                self._sla_full_at = started
        sent = 0
        settings = self.engine.settings
        if settings.smtp is not None:
            with self.engine.write() as services:
                mailer = Mailer(services.session, self.engine.clock, settings.smtp,
                                public_url=settings.public_url, timezone=settings.timezone,
                                awaited=services.awaited)
                sent = mailer.send_pending() + mailer.send_digests()
        self._purge(started)
        return breaches, sent

    def _purge(self, now: datetime) -> None:
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        with self.engine.write() as services:
            gone = purge(services.session,
                         before=now - timedelta(days=self.engine.settings.notification_days))
        if gone:
            log.info("deleted %d notifications older than %d days", gone,
                     self.engine.settings.notification_days)
        self._purged_at = now

    def tick(self) -> None:
        """One scheduler beat: timers first (they may complete tasks), then SLAs.

        A full batch means more may be due: sweep again at once rather than wait.
        """
        while self.run_once() >= self.batch:
            pass
        self.run_sla_once()
        # The documents no renderer thread made (queued by a process that has none, or
        # left by one that died); a few per beat, so timers are never held up long.
        self.engine.renders.drain(limit=RENDERS_PER_TICK)
