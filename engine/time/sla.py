"""SLA breaches, their escalation, and the service clock of each instance.

A user task past its due time becomes a breach record (task, role, assignee,
due, completed-at, lateness) and a notification to the role its role escalates
to (an extension registers that chain). The service clock measures, per
instance, the organisation's own elapsed working time: it runs while some open
task belongs to its staff and stops while the next action is the customer's or
another outside party's (roles an extension names), and while the instance is
suspended, against a target set on the process
(``camunda:property name="serviceTimeTarget" value="P41D"``, working days).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from engine.bpmn.host import parse_duration
from engine.identity.access import CUSTOMER
from engine.models import (
    HistoryEvent,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    SlaBreach,
    Task,
)
from engine.notifications.outbox import SLA_BREACH
from engine.notifications.texts import when
from engine.queries.lists import Page, page_bounds
from engine.time.calendar import WorkingCalendar
from engine.time.clock import Clock

# Whose time is not the organisation's own unless an extension names more (a laboratory).
OUTSIDE = frozenset({CUSTOMER})
TARGET_PROPERTY = "serviceTimeTarget"


class SlaMonitor:
    def __init__(self, session: Session, clock: Clock, *,
                 escalation: Mapping[str, str] | None = None) -> None:
        """:param escalation: role -> the role that hears when its task is late
            (extensions register it; a role not in it escalates to nobody)."""
        self.session = session
        self.clock = clock
        self.escalation = escalation or {}

    def detect_breaches(self, limit: int = 500, *, due_after: datetime | None = None) -> int:
        """Record and escalate ready tasks that passed their due time; return how many.

        With ``due_after``, only tasks that fell due after it are looked at (a
        range of the due-date index), not every open overdue task again.
        """
        now = self.clock.now()
        # due_order is due_at, or the far future for a task without one: filtering
        # and sorting on it reads the (state, due_order) index as one range.
        where = [Task.state == "ready", Task.due_order <= now,
                 ~sa.exists().where(SlaBreach.task_id == Task.id)]
        if due_after is not None:
            where.append(Task.due_order > due_after)
        overdue = list(self.session.scalars(
            sa.select(Task).options(selectinload(Task.candidates))
            .where(*where).order_by(Task.due_order).limit(limit)))
        for task in overdue:
            roles = task.candidate_groups or ([task.lane] if task.lane else [])
            coordinator = next((self.escalation[r] for r in roles if r in self.escalation),
                               None)
            self.session.add(SlaBreach(
                task_id=task.id, instance_id=task.instance_id,
                definition_key=task.definition_key, element_id=task.element_id,
                title=task.title, roles=",".join(roles), assignee=task.assignee,
                due_at=task.due_at, detected_at=now, completed_at=None, completed_by=None,
                escalated_to=coordinator))
            # The stored words summarise the row; each mail is written for its reader
            # in their language and time zone (engine.notifications.texts).
            what = task.title or "-"
            body = (f"Tugas \u201c{what}\u201d melewati batas waktu "
                    f"{when(task.due_at or now, 'id', UTC)} dan belum selesai. "
                    f"Peran: {', '.join(roles) or '-'}; dikerjakan oleh: "
                    f"{task.assignee or 'belum ada'}.")
            if coordinator:
                self._notify(task, subject=f"Terlambat: {what}", body=body,
                             recipient_role=coordinator)
            if task.assignee:
                self._notify(task, subject=f"Tugas Anda terlambat: {what}", body=body,
                             recipient_user=task.assignee)
        self.session.flush()
        return len(overdue)

    def _notify(self, task: Task, *, subject: str, body: str,
                recipient_role: str | None = None, recipient_user: str | None = None) -> None:
        self.session.add(Notification(
            recipient_role=recipient_role, recipient_user=recipient_user, kind=SLA_BREACH,
            subject=subject[:255], body=body, instance_id=task.instance_id, task_id=task.id,
            created_at=self.clock.now(), emailed_at=None, email_error=None, email_attempts=0))

    def breaches(self, *, open_only: bool = False, role: str | None = None,
                 key: str | None = None, page: int = 1, per_page: int = 50
                 ) -> Page[SlaBreach]:
        offset, limit = page_bounds(page, per_page)
        where: list[sa.ColumnElement[bool]] = []
        if open_only:
            where.append(SlaBreach.completed_at.is_(None))
        if role:
            where.append(sa.or_(SlaBreach.roles == role, SlaBreach.roles.like(f"{role},%"),
                                SlaBreach.roles.like(f"%,{role}"),
                                SlaBreach.roles.like(f"%,{role},%")))
        if key:
            where.append(SlaBreach.definition_key == key)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(SlaBreach)
                                    .where(*where))
        items = self.session.scalars(sa.select(SlaBreach).where(*where)
                                     .order_by(SlaBreach.due_at.desc()).offset(offset)
                                     .limit(limit))
        return Page(list(items), int(total or 0), page, per_page)


@dataclass(frozen=True)
class ServiceClock:
    instance_id: str
    definition_key: str
    business_key: str | None
    status: str
    used_days: float
    target_days: float | None
    remaining_days: float | None
    running_now: bool
    projected_finish: datetime | None


def _target_days(definition: ProcessDefinition) -> float | None:
    properties = (definition.spec or {}).get("properties") or {}
    text = properties.get(TARGET_PROPERTY)
    if not text:
        return None
    parts = parse_duration(str(text))
    return float(parts.get("days", 0) + 5 * parts.get("weeks", 0))


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[tuple[datetime, datetime]],
              holes: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            next_pieces = []
            for a, b in pieces:
                if hole_end <= a or hole_start >= b:
                    next_pieces.append((a, b))
                    continue
                if a < hole_start:
                    next_pieces.append((a, hole_start))
                if hole_end < b:
                    next_pieces.append((hole_end, b))
            pieces = next_pieces
        result.extend(pieces)
    return result


class ServiceClocks:
    """Computes the service clock of instances from their task and history rows."""

    def __init__(self, session: Session, clock: Clock, calendar: WorkingCalendar, *,
                 outside: frozenset[str] = OUTSIDE) -> None:
        """:param outside: roles whose work is not the organisation's: while only they
            have open tasks, the clock stands still."""
        self.session = session
        self.clock = clock
        self.calendar = calendar
        self.outside = outside | OUTSIDE

    def of(self, instance: ProcessInstance) -> ServiceClock:
        now = self.clock.now()
        end = instance.ended_at or now
        tasks = list(self.session.scalars(
            sa.select(Task).options(selectinload(Task.candidates))
            .where(Task.instance_id == instance.id)))
        own = []
        running_now = False
        for task in tasks:
            roles = set(task.candidate_groups) or ({task.lane} if task.lane else set())
            if roles and roles <= self.outside:
                continue
            finished = task.completed_at or end
            own.append((task.created_at, min(finished, end)))
            running_now = running_now or (task.state == "ready" and instance.status == "running")
        counted = _subtract(_merge(own), self._suspensions(instance.id, end))
        seconds = sum(self.calendar.office_seconds_between(a, b) for a, b in counted)
        used = seconds / self.calendar.office_day_seconds
        definition = self.session.get(ProcessDefinition, instance.definition_id)
        target = _target_days(definition) if definition is not None else None
        remaining = None if target is None else target - used
        projected = None
        if remaining is not None and instance.status in ("running", "suspended"):
            whole = max(remaining, 0.0)
            projected = self.calendar.add(now, f"P{int(whole)}DT{int((whole % 1) * 8 * 3600)}S")
        return ServiceClock(instance.id, instance.definition_key, instance.business_key,
                            instance.status, round(used, 3), target,
                            None if remaining is None else round(remaining, 3), running_now,
                            projected)

    def _suspensions(self, instance_id: str, end: datetime) -> list[tuple[datetime, datetime]]:
        events = self.session.execute(
            sa.select(HistoryEvent.kind, HistoryEvent.at)
            .where(HistoryEvent.instance_id == instance_id,
                   HistoryEvent.kind.in_(("instance_suspended", "instance_resumed")))
            .order_by(HistoryEvent.id)).all()
        holes, since = [], None
        for kind, at in events:
            if kind == "instance_suspended":
                since = at
            elif since is not None:
                holes.append((since, at))
                since = None
        if since is not None:
            holes.append((since, end))
        return holes

    def running(self, *, key: str | None = None, page: int = 1, per_page: int = 50
                ) -> Page[ServiceClock]:
        offset, limit = page_bounds(page, per_page)
        where: list[sa.ColumnElement[bool]] = [
            ProcessInstance.status.in_(("running", "suspended", "error"))]
        if key:
            where.append(ProcessInstance.definition_key == key)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)
                                    .where(*where))
        instances = self.session.scalars(sa.select(ProcessInstance).where(*where)
                                         .order_by(ProcessInstance.started_at)
                                         .offset(offset).limit(limit))
        return Page([self.of(i) for i in instances], int(total or 0), page, per_page)
