"""Timer start events: a process whose start event is a timer starts by itself.

When a version of a process is deployed, its timer start events are scheduled
in the ``start_timer`` table (replacing those of the version before); the sweep
starts an instance when one is due and schedules the next start of a cycle.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.events import evaluate_constant_timer, first_due
from engine.bpmn.workflow import ProcessRun
from engine.models import ProcessDefinition, StartTimer
from engine.time.clock import Clock


class StartTimers:
    def __init__(self, session: Session, clock: Clock, *, timezone: Any,
                 add_duration: Any) -> None:
        self.session = session
        self.clock = clock
        self.timezone = timezone
        self.add_duration = add_duration

    def schedule(self, definition: ProcessDefinition) -> list[StartTimer]:
        """Replace the key's start timers with those of ``definition`` (its new version)."""
        self.session.execute(sa.delete(StartTimer).where(
            StartTimer.definition_key == definition.key))
        rows = []
        for element, kind, expression in ProcessRun.timer_start_events(definition.spec):
            text = evaluate_constant_timer(expression)
            due, remaining, step = first_due(kind, text, now=self.clock.now(),
                                             timezone=self.timezone,
                                             add_duration=self.add_duration)
            if remaining == 0:
                continue
            rows.append(StartTimer(definition_id=definition.id, definition_key=definition.key,
                                   element_id=element, due_at=due, remaining=remaining,
                                   interval_seconds=step))
        self.session.add_all(rows)
        self.session.flush()
        return rows

    def next_due(self, *, lock: bool) -> StartTimer | None:
        query = (sa.select(StartTimer).where(StartTimer.due_at <= self.clock.now())
                 .order_by(StartTimer.due_at).limit(1))
        if lock:
            query = query.with_for_update(skip_locked=True)
        found: StartTimer | None = self.session.scalars(query).first()
        return found

    def advance(self, timer: StartTimer) -> None:
        """After a start: the next one of a cycle, or none."""
        if timer.remaining == 1 or not timer.interval_seconds:
            self.session.delete(timer)
        else:
            timer.remaining = max(timer.remaining - 1, -1) if timer.remaining > 0 else -1
            timer.due_at = timer.due_at + timedelta(seconds=timer.interval_seconds)
        self.session.flush()
