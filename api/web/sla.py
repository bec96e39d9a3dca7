"""The SLA badge of an open task: on time, due soon, or overdue.

"Due soon" means due within one working day from now (the engine's working
calendar: weekends, Indonesian public holidays and closure days skipped), so
that a task due on Monday morning shows as due soon on Friday afternoon.

An instance's service clock (``engine.time.sla.ServiceClocks``) says whether the
organisation has work on it; :func:`clock_state` says in words why it stands
when it stands: outside office hours (nights, weekends, holidays, closure days
of the same calendar), the instance suspended or ended, or only the customer or
an outside party (a laboratory) having work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.models import Task
from engine.time.sla import ServiceClock

from ..context import engine
from . import bp

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


def clock_state(clock: ServiceClock) -> str:
    """The message key of the clock's state now: running, or why it stands."""
    if clock.status in ("completed", "cancelled"):
        return "clock.ended"
    if clock.status == "suspended":
        return "clock.suspended"
    if not clock.running_now:
        return "clock.paused"  # only the customer or an outside party has work
    now = engine().clock.now()
    if engine().calendar.office_seconds_between(now - timedelta(minutes=1), now) <= 0:
        return "clock.off_hours"
    return "clock.running"


@bp.app_context_processor
def _clock_context() -> dict[str, Any]:
    return {"clock_state": clock_state}
