"""Read-side queries with the access rules applied: task lists, instances, history.

Everything here is a plain indexed query over the projected tables; nothing
loads a workflow except :meth:`Queries.task_variables`, which needs the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import (
    EventSubscription,
    HistoryEvent,
    Incident,
    ProcessInstance,
    Task,
    TaskCandidate,
    Timer,
)
from engine.queries import history_values
from engine.queries.search import found_by

T = TypeVar("T")

MAX_PER_PAGE = 200
TASK_SORTS = {
    "due": (Task.due_order, Task.created_at),
    "-due": (Task.due_order.desc(), Task.created_at.desc()),
    "created": (Task.created_at,),
    "-created": (Task.created_at.desc(),),
    "priority": (Task.priority.desc(), Task.created_at),
}
# One instance's tasks in a state, per sort: the most frequent list, built once.
_INSTANCE_TASKS = {
    sort: sa.select(Task)
    .where(Task.instance_id == sa.bindparam("instance_id"), Task.state == sa.bindparam("state"))
    .order_by(*order)
    for sort, order in TASK_SORTS.items()
}
INSTANCE_STATUSES = ("running", "suspended", "completed", "cancelled", "error")


# A task list counts at most this far; past it the total says "at least".
COUNT_CAP = 1000
# Below this many candidate rows, a task list is read from the candidates;
# above it, from the due-date index (the matches are dense enough to be near).
SPARSE = 2000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    total_exact: bool = True


def page_bounds(page: int, per_page: int) -> tuple[int, int]:
    """Check paging arguments; return (offset, limit)."""
    errors = {}
    if page < 1:
        errors["page"] = "must be 1 or more"
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = f"must be between 1 and {MAX_PER_PAGE}"
    if errors:
        raise InvalidInput("invalid paging", errors)
    return (page - 1) * per_page, per_page


def _candidate_of(actor: Actor) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(TaskCandidate.kind == "user", TaskCandidate.value == actor.username),
        sa.and_(TaskCandidate.kind == "group", TaskCandidate.value.in_(sorted(actor.roles))),
    )


def task_visible_to(actor: Actor) -> sa.ColumnElement[bool]:
    """The condition under which ``actor`` may see a task (and, if unclaimed, act on it)."""
    candidate = sa.exists().where(TaskCandidate.task_id == Task.id, _candidate_of(actor))
    mine = sa.or_(Task.assignee == actor.username, candidate)
    if actor.is_customer:
        return sa.and_(mine, Task.company == actor.company)
    if actor.is_admin:
        return sa.true()
    return mine


def instance_visible_to(actor: Actor) -> sa.ColumnElement[bool]:
    """Staff see every instance; a customer only those of their own company."""
    if actor.is_customer:
        return ProcessInstance.company == actor.company
    return sa.true()


def sees(actor: Actor, task: Task) -> bool:
    """:func:`task_visible_to` for a loaded task: admins see all, others what they may act on."""
    return (actor.is_admin and not actor.is_customer) or may_act_on(actor, task)


def may_act_on(actor: Actor, task: Task) -> bool:
    """Whether ``actor`` is a candidate or the assignee; an admin may act on any task."""
    if actor.is_customer and task.company != actor.company:
        return False
    if actor.is_admin:
        return True
    if task.assignee == actor.username:
        return True
    return (actor.username in task.candidate_users
            or any(group in actor.roles for group in task.candidate_groups))


class Queries:
    def __init__(self, session: Session, *, sparse: int = SPARSE,
                 count_cap: int = COUNT_CAP) -> None:
        self.session = session
        self.sparse = sparse
        self.count_cap = count_cap

    # -- tasks ---------------------------------------------------------------------

    def tasks(
        self,
        actor: Actor,
        *,
        state: str = "ready",
        assignee: str | None = None,
        unassigned: bool | None = None,
        claimable: bool = False,
        role: str | None = None,
        key: str | None = None,
        business_key: str | None = None,
        instance_id: str | None = None,
        due_before: datetime | None = None,
        search: str | None = None,
        sort: str = "due",
        page: int = 1,
        per_page: int = 50,
    ) -> Page[Task]:
        """List the tasks ``actor`` may see, filtered, sorted and paged.

        ``search``: each word typed starts a word of the instance's business key,
        company or searched variables (engine.queries.search);
        ``claimable`` keeps the tasks that are the actor's or nobody's yet (not
        those a colleague has claimed).
        """
        offset, limit = page_bounds(page, per_page)
        if sort not in TASK_SORTS:
            raise InvalidInput("invalid sort", {"sort": f"must be one of {', '.join(TASK_SORTS)}"})
        # What the caller narrows the list by, besides the state and the instance.
        filters: list[sa.ColumnElement[bool]] = []
        if assignee is not None:
            filters.append(Task.assignee == (actor.username if assignee == "me" else assignee))
        if unassigned is True:
            filters.append(Task.assignee.is_(None))
        elif unassigned is False:
            filters.append(Task.assignee.is_not(None))
        if claimable:
            filters.append(sa.or_(Task.assignee.is_(None), Task.assignee == actor.username))
        if role is not None:
            filters.append(sa.exists().where(TaskCandidate.task_id == Task.id,
                                             TaskCandidate.kind == "group",
                                             TaskCandidate.value == role))
        if key is not None:
            filters.append(Task.definition_key == key)
        if due_before is not None:
            filters.append(Task.due_at < due_before)
        if search:
            filters.append(found_by(Task.instance_id, search))
        if instance_id is not None or business_key is not None:
            return self._few_tasks(actor, state, filters, sort, offset, limit, page, per_page,
                                   instance_id=instance_id, business_key=business_key)
        visible, exact, at_least = self._visible_tasks(actor, state)
        where = [visible, Task.state == state, *filters]
        statement = sa.select(Task).where(*where).order_by(*TASK_SORTS[sort])
        items = list(self.session.scalars(statement.offset(offset).limit(limit)))
        if offset == 0 and len(items) < limit:
            return Page(items, len(items), page, per_page)  # the first page holds them all
        if at_least >= self.count_cap and not filters:
            # The candidate rows alone show the list is longer than the cap.
            return Page(items, self.count_cap, page, per_page, total_exact=False)
        counted = sa.select(Task.id).where(*where)
        if not exact:
            counted = counted.limit(self.count_cap + 1)
        total = int(self.session.scalar(
            sa.select(sa.func.count()).select_from(counted.subquery())) or 0)
        if not exact and total > self.count_cap:
            return Page(items, self.count_cap, page, per_page, total_exact=False)
        return Page(items, total, page, per_page)

    def _few_tasks(self, actor: Actor, state: str, filters: list[sa.ColumnElement[bool]],
                   sort: str, offset: int, limit: int, page: int, per_page: int, *,
                   instance_id: str | None, business_key: str | None) -> Page[Task]:
        """One instance's (or business key's) tasks: read all, keep those ``actor`` sees.

        An instance has a handful of tasks, so the rule is checked on each loaded
        row (:func:`sees`) and the page cut in Python. Listing one instance's open
        tasks is the most frequent call of all, so that statement is built once.
        """
        if instance_id is not None and business_key is None and not filters:
            rows = self.session.scalars(_INSTANCE_TASKS[sort],
                                        {"instance_id": instance_id, "state": state})
        else:
            where = [Task.state == state, *filters]
            if instance_id is not None:
                where.append(Task.instance_id == instance_id)
            if business_key is not None:
                where.append(Task.instance_id.in_(
                    sa.select(ProcessInstance.id)
                    .where(ProcessInstance.business_key == business_key)))
            rows = self.session.scalars(sa.select(Task).where(*where)
                                        .order_by(*TASK_SORTS[sort]))
        seen = [task for task in rows if sees(actor, task)]
        return Page(seen[offset:offset + limit], len(seen), page, per_page)

    def _visible_tasks(self, actor: Actor, state: str
                       ) -> tuple[sa.ColumnElement[bool], bool, int]:
        """Choose how to read the actor's tasks.

        Returns the condition, whether to count exactly, and a number of tasks the
        actor is known to see at least (0 when unknown).

        A staff member's open tasks are found through their candidate rows when
        there are few (an index range), and through the due-date index when there
        are many (matches are then close together in due order). Admins' and
        large lists are counted up to :data:`COUNT_CAP`.
        """
        if actor.is_admin and not actor.is_customer:
            return sa.true(), False, 0
        if actor.is_customer or state != "ready":
            return task_visible_to(actor), actor.is_customer, 0
        open_candidates = (sa.select(TaskCandidate.task_id)
                           .where(TaskCandidate.state == "ready", _candidate_of(actor)))
        # Counted only as far as either decision needs: past the sparse bound,
        # and far enough to prove the list longer than the count cap. Counting
        # all of a busy role's rows took most of the list's time.
        per_task = len(actor.roles) + 1
        enough = max(self.sparse, self.count_cap * per_task) + 1
        rows = self.session.scalar(sa.select(sa.func.count())
                                   .select_from(open_candidates.limit(enough).subquery())) or 0
        if rows <= self.sparse:
            condition = sa.or_(Task.id.in_(open_candidates), Task.assignee == actor.username)
            return condition, True, 0
        # A task has at most one candidate row per role of the actor plus one for the
        # actor's own name, so the rows tell how many tasks there are at least.
        return task_visible_to(actor), False, rows // per_task

    def task(self, actor: Actor, task_id: str) -> Task:
        """Return a task ``actor`` may see; otherwise it does not exist for them."""
        task = self.session.get(Task, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        if not ((actor.is_admin and not actor.is_customer) or may_act_on(actor, task)):
            raise NotFound(f"no task {task_id}")
        return task

    def actionable_task(self, actor: Actor, task_id: str) -> Task:
        """Return a task ``actor`` may act on: NotFound if unseen, Forbidden if only seen."""
        task = self.task(actor, task_id)
        if not may_act_on(actor, task):
            raise Forbidden(f"task {task_id} belongs to {', '.join(task.candidate_groups)}; "
                            "you do not have that role")
        return task

    # -- instances --------------------------------------------------------------------

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
        total = self.session.scalar(
            sa.select(sa.func.count()).select_from(ProcessInstance).where(*where))
        items = self.session.scalars(
            sa.select(ProcessInstance).where(*where)
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id)
            .offset(offset).limit(limit))
        return Page(list(items), int(total or 0), page, per_page)

    def instance(self, actor: Actor, instance_id: str) -> ProcessInstance:
        instance = self.session.scalars(
            sa.select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                             instance_visible_to(actor))).first()
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
