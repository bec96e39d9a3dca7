"""The SLA badge of an open task: on time, due soon, or overdue.

"Due soon" means due within one working day from now (the engine's working
calendar: weekends, Indonesian public holidays and closure days skipped), so
that a task due on Monday morning shows as due soon on Friday afternoon.
"""

from __future__ import annotations

from datetime import datetime

from engine.models import Task

from ..context import engine

ON_TIME = "on-time"
DUE_SOON = "due-soon"
OVERDUE = "overdue"
BADGES = (ON_TIME, DUE_SOON, OVERDUE)
SOON = "P1D"


def badge_for(due_at: datetime | None, state: str, now: datetime) -> str | None:
    """The badge of a task due at ``due_at`` (None: no due time, or not open)."""
    if due_at is None or state != "ready":
        return None
    if due_at <= now:
        return OVERDUE
    if due_at <= engine().calendar.add(now, SOON):
        return DUE_SOON
    return ON_TIME


def badge(task: Task) -> str | None:
    return badge_for(task.due_at, task.state, engine().clock.now())
