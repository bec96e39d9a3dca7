"""Figures for the administrators' dashboard: where the work stands and how late it is.

Everything here reads the projected tables (instances, tasks and their
candidate rows, SLA breaches, incidents) with grouped queries; no workflow is
loaded. Access is the caller's concern: these figures are for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import Incident, ProcessInstance, Task, TaskCandidate
from engine.time.clock import Clock, local_today


@dataclass(frozen=True)
class StepCount:
    """Open tasks of running instances at one step of one process."""

    key: str
    element_id: str
    title: str | None
    tasks: int
    overdue: int


@dataclass(frozen=True)
class WeekFigure:
    """Tasks with a due time completed in one week (Monday to Sunday, local time)."""

    week_start: date
    completed: int
    on_time: int

    @property
    def late(self) -> int:
        return self.completed - self.on_time

    @property
    def compliance(self) -> float | None:
        """The share done on time, 0..1; None for a week without such tasks."""
        return self.on_time / self.completed if self.completed else None


class Monitoring:
    def __init__(self, session: Session, clock: Clock, timezone: tzinfo) -> None:
        self.session = session
        self.clock = clock
        self.timezone = timezone

    def instances_by_status(self) -> dict[str, dict[str, int]]:
        """Process key -> instance status -> how many instances."""
        rows = self.session.execute(
            sa.select(ProcessInstance.definition_key, ProcessInstance.status, sa.func.count())
            .group_by(ProcessInstance.definition_key, ProcessInstance.status)).all()
        found: dict[str, dict[str, int]] = {}
        for key, status, count in rows:
            found.setdefault(key, {})[status] = int(count)
        return dict(sorted(found.items()))

    def open_steps(self) -> list[StepCount]:
        """Open tasks of running instances, per process and step, the busiest first."""
        now = self.clock.now()
        overdue = sa.case((Task.due_at < now, 1), else_=0)
        rows = self.session.execute(
            sa.select(Task.definition_key, Task.element_id, sa.func.max(Task.title),
                      sa.func.count(), sa.func.sum(overdue))
            .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
            .where(Task.state == "ready", ProcessInstance.status == "running")
            .group_by(Task.definition_key, Task.element_id)).all()
        steps = [StepCount(key, element, title, int(count), int(late or 0))
                 for key, element, title, count, late in rows]
        return sorted(steps, key=lambda s: (-s.tasks, s.key, s.element_id))

    def overdue_by_role(self) -> dict[str, int]:
        """Role -> open tasks past their due time that the role may act on."""
        now = self.clock.now()
        rows = self.session.execute(
            sa.select(TaskCandidate.value, sa.func.count())
            .join(Task, Task.id == TaskCandidate.task_id)
            .where(TaskCandidate.kind == "group", TaskCandidate.state == "ready",
                   Task.state == "ready", Task.due_at < now)
            .group_by(TaskCandidate.value)).all()
        return {role: int(count) for role, count in sorted(rows, key=lambda r: (-r[1], r[0]))}

    def sla_compliance(self, weeks: int = 8) -> list[WeekFigure]:
        """Per week, the oldest first, up to this one: tasks done on time against their due time.

        A task counts in the week it was completed; it was on time when it was
        completed no later than it was due. Tasks without a due time do not count.
        """
        today = local_today(self.clock, self.timezone)
        this_monday = today - timedelta(days=today.weekday())
        first = this_monday - timedelta(weeks=weeks - 1)
        since = datetime.combine(first, time(0, 0), tzinfo=self.timezone)
        rows = self.session.execute(
            sa.select(Task.completed_at, Task.due_at)
            .where(Task.state == "completed", Task.due_at.is_not(None),
                   Task.completed_at >= since)).all()
        counts = {first + timedelta(weeks=i): [0, 0] for i in range(weeks)}
        for completed_at, due_at in rows:
            if completed_at is None or due_at is None:
                continue  # not possible for a completed task with a due time; for the types
            day = completed_at.astimezone(self.timezone).date()
            monday = day - timedelta(days=day.weekday())
            if monday in counts:
                counts[monday][0] += 1
                counts[monday][1] += int(completed_at <= due_at)
        return [WeekFigure(monday, done, on_time) for monday, (done, on_time) in counts.items()]

    def open_incident_count(self) -> int:
        return int(self.session.scalar(
            sa.select(sa.func.count()).select_from(Incident)
            .where(Incident.status == "open")) or 0)
