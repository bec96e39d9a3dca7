"""Read-side queries with the access rules applied: task lists, instances, history.

Everything here is a plain indexed query over the projected tables; nothing
loads a workflow except :meth:`Queries.task_variables`, which needs the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from engine.errors import InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import (
    EventSubscription,
    HistoryEvent,
    Incident,
    ProcessInstance,
    Task,
    Timer,
)
from engine.queries import history_values
from engine.queries.access import (
    MAX_PER_PAGE,
    Page,
    T,
    TaskAccess,
    check_actionable,
    instance_visible_to,
    may_act_on,
    page_bounds,
    sees,
    task_visible_to,
)
from engine.queries.search import found_by
from engine.queries.task_lists import COUNT_CAP, SPARSE, TASK_SORTS, WALK, TaskLists

__all__ = ["COUNT_CAP", "INSTANCE_STATUSES", "MAX_PER_PAGE", "SPARSE", "TASK_SORTS", "WALK",
           "Page", "Queries", "TaskAccess", "check_actionable", "instance_visible_to",
           "may_act_on", "page_bounds", "sees", "task_visible_to"]

INSTANCE_STATUSES = ("running", "suspended", "completed", "cancelled", "error")

# One instance as staff and as a customer of a company see it (instance_visible_to),
# built once: a task's page reads it on every view.
_INSTANCE = sa.select(ProcessInstance).where(ProcessInstance.id == sa.bindparam("id"))
_COMPANY_INSTANCE = _INSTANCE.where(ProcessInstance.company == sa.bindparam("company"))


class Queries(TaskLists):
    """The read side: task lists (:class:`TaskLists`), instances, history, incidents."""

    def instances(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        key: str | None = None,
        business_key: str | None = None,
        overdue_at: datetime | None = None,
        with_open_incidents: bool = False,
        search: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> Page[ProcessInstance]:
        """List the instances ``actor`` may see, newest first.

        ``overdue_at``: only those with an open task due before that moment;
        ``with_open_incidents``: only those with an incident not yet resolved;
        ``search``: found by the words typed (engine.queries.search).
        """
        offset, limit = page_bounds(page, per_page)
        where: list[sa.ColumnElement[bool]] = [instance_visible_to(actor)]
        if status is not None:
            if status not in INSTANCE_STATUSES:
                raise InvalidInput("invalid status", {
                    "status": f"must be one of {', '.join(INSTANCE_STATUSES)}"})
            where.append(ProcessInstance.status == status)
        if key is not None:
            where.append(ProcessInstance.definition_key == key)
        if business_key is not None:
            where.append(ProcessInstance.business_key == business_key)
        if overdue_at is not None:
            where.append(sa.exists().where(Task.instance_id == ProcessInstance.id,
                                           Task.state == "ready", Task.due_at < overdue_at))
        if with_open_incidents:
            where.append(sa.exists().where(Incident.instance_id == ProcessInstance.id,
                                           Incident.status == "open"))
        if search:
            where.append(found_by(ProcessInstance.id, search))
        # Counted no further than the task lists' cap: an exact count grows with every
        # instance ever started (45 -> 206 ms from 1,000 to 10,000 SOP instances, measured
        # by bench/growth.py), while "more than 1,000" tells the reader as much.
        limited = sa.select(ProcessInstance.id).where(*where).limit(self.count_cap + 1)
        total = int(self.session.scalar(
            sa.select(sa.func.count()).select_from(limited.subquery())) or 0)
        # Newest first along ix_process_instance_started: the page stops the walk.
        items = self.session.scalars(
            sa.select(ProcessInstance).where(*where)
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id)
            .offset(offset).limit(limit))
        return Page(list(items), min(total, self.count_cap), page, per_page,
                    total_exact=total <= self.count_cap)

    def instance(self, actor: Actor, instance_id: str) -> ProcessInstance:
        if actor.is_customer:
            query, params = _COMPANY_INSTANCE, {"id": instance_id, "company": actor.company}
        else:
            query, params = _INSTANCE, {"id": instance_id}
        instance = self.session.scalars(query, params).first()
        if instance is None:
            raise NotFound(f"no process instance {instance_id}")
        return instance

    def history(self, actor: Actor, instance_id: str, *, page: int = 1, per_page: int = 100
                ) -> Page[HistoryEvent]:
        self.instance(actor, instance_id)
        offset, limit = page_bounds(page, per_page)
        where = HistoryEvent.instance_id == instance_id
        total = self.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent)
                                    .where(where))
        items = list(self.session.scalars(sa.select(HistoryEvent).where(where)
                                          .order_by(HistoryEvent.id).offset(offset).limit(limit)))
        history_values.resolve(self.session, items)  # large values, one query per page
        return Page(items, int(total or 0), page, per_page)

    def instance_tasks(self, instance_id: str, state: str = "ready") -> list[Task]:
        return list(self.session.scalars(
            sa.select(Task)
            .where(Task.instance_id == instance_id, Task.state == state)
            .order_by(Task.created_at)))

    def open_tasks_seen_by(self, actor: Actor, instance_id: str) -> list[Task]:
        """An instance's open tasks as ``actor`` may see them: a customer, their company's."""
        return self.open_tasks_of_instances(actor, [instance_id])[instance_id]

    def open_tasks_of_instances(self, actor: Actor, instance_ids: Iterable[str]
                                ) -> dict[str, list[Task]]:
        """Open tasks per instance (a page of a list, in one query), as ``actor`` may see them."""
        found: dict[str, list[Task]] = {i: [] for i in instance_ids}
        for task in self.session.scalars(
                sa.select(Task)
                .where(Task.instance_id.in_(list(found)), Task.state == "ready")
                .order_by(Task.created_at)):
            if not actor.is_customer or task.company == actor.company:
                found[task.instance_id].append(task)
        return found

    def awaited_messages(self, instance_id: str) -> list[str]:
        """The names of the messages an instance waits for, in name order."""
        return self.awaited_messages_of([instance_id])[instance_id]

    def awaited_messages_of(self, instance_ids: Iterable[str]) -> dict[str, list[str]]:
        """Per instance, the names of the messages it waits for (one query for a page)."""
        found: dict[str, list[str]] = {i: [] for i in instance_ids}
        for instance_id, name in self.session.execute(
                sa.select(EventSubscription.instance_id, EventSubscription.name).distinct()
                .where(EventSubscription.instance_id.in_(list(found)),
                       EventSubscription.kind == "message")
                .order_by(EventSubscription.name)):
            found[instance_id].append(name)
        return found

    def instance_timers(self, instance_id: str) -> list[Timer]:
        return list(self.session.scalars(
            sa.select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)))

    def incidents(self, *, instance_id: str | None = None, status: str | None = "open",
                  page: int = 1, per_page: int = 50) -> Page[Incident]:
        offset, limit = page_bounds(page, per_page)
        where: list[sa.ColumnElement[bool]] = []
        if instance_id is not None:
            where.append(Incident.instance_id == instance_id)
        if status is not None:
            where.append(Incident.status == status)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(Incident)
                                    .where(*where))
        items = self.session.scalars(sa.select(Incident).where(*where)
                                     .order_by(Incident.id.desc()).offset(offset).limit(limit))
        return Page(list(items), int(total or 0), page, per_page)

    def incident(self, incident_id: int) -> Incident:
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        return incident

    # -- definitions ----------------------------------------------------------------------

    @staticmethod
    def paginate(items: Sequence[T], page: int, per_page: int) -> Page[T]:
        """Page a short list already in memory (definitions, an instance's documents)."""
        offset, limit = page_bounds(page, per_page)
        return Page(list(items[offset:offset + limit]), len(items), page, per_page)
