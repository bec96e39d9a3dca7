"""Task lists: a person's tasks, filtered, sorted and paged, read off the task indexes.

:class:`TaskLists` is the task half of :class:`~engine.queries.lists.Queries`.
Every list counts no further than a small cap, and each kind of reader takes the
path that keeps the first page cheap at any size (see :meth:`TaskLists._by_candidates`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from engine.errors import InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import ProcessInstance, Task, TaskCandidate
from engine.models.tasks import NO_DUE_DATE
from engine.persistence.direct import Direct
from engine.queries.access import (
    Page,
    candidate_names,
    check_actionable,
    page_bounds,
    sees,
    task_visible_to,
)
from engine.queries.search import found_by

# Each order ends with the id: tasks created by one command often share their
# creation and due times, and a list's pages may be read by different plans
# (see TaskLists._by_candidates), which must agree on where such ties fall.
TASK_SORTS = {
    "due": (Task.due_order, Task.created_at, Task.id),
    "-due": (Task.due_order.desc(), Task.created_at.desc(), Task.id.desc()),
    "created": (Task.created_at, Task.id),
    "-created": (Task.created_at.desc(), Task.id.desc()),
    "priority": (Task.priority.desc(), Task.created_at, Task.id),
}
# One instance's tasks in a state, per sort: the most frequent list, built once, and
# read as plain rows of the task table (see ListedTask).
# On the driver's cursor (engine.persistence.direct): SQLAlchemy's execute and
# result rows cost more than SQLite's reading of the handful of rows.
_INSTANCE_TASKS = {
    sort: Direct(sa.select(*Task.__table__.c)
                 .where(Task.instance_id == sa.bindparam("instance_id"),
                        Task.state == sa.bindparam("state"))
                 .order_by(*order))
    for sort, order in TASK_SORTS.items()
}
# A row of the task table, its values under the columns' names (whatever columns
# the table has: a namedtuple made from them, so to the type checker it is Any).
TaskTableRow: Any = namedtuple(  # type: ignore[misc]
    "TaskTableRow", [c.key for c in Task.__table__.c])

_TASK = sa.select(Task).where(Task.id == sa.bindparam("id"))

# A task in a list: the ORM model, or the task table's row (a TaskTableRow), whose
# attributes have the same names. One instance's tasks, the most frequent list of
# all, come as rows: the ORM's loading cost more than the query.
ListedTask = Task | Any


# A task list counts at most this far, at every size; past it the total says
# "at least" (``total_exact`` false).
COUNT_CAP = 1000
# A staff member or customer whose list holds at most this many tasks per row
# asked for (offset + per page) is read through the ids of their tasks: a few
# hundred primary-key lookups and a small sort. A longer list is read along the
# due-date index (a customer's company's), first only as far as WALK rows per row
# asked for (enough when the actor's tasks are not rare among all open ones), else
# through the ids again.
SPARSE = 10
WALK = 20


class TaskLists:
    def __init__(self, session: Session, *, sparse: int = SPARSE, walk: int = WALK,
                 count_cap: int = COUNT_CAP) -> None:
        """:param sparse: read a staff or customer list by ids when it holds at most this many
            tasks per row asked for; :param walk: walk the due-date index at most
            this many rows per row asked for before reading by ids;
            :param count_cap: count no further than this.
        """
        self.session = session
        self.sparse = sparse
        self.walk = walk
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
    ) -> Page[ListedTask]:
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
            # Aliased: a list joins task_candidate itself (_candidate_task_ids).
            held = aliased(TaskCandidate)
            filters.append(sa.exists().where(held.task_id == Task.id, held.kind == "group",
                                             held.value == role))
        if key is not None:
            filters.append(Task.definition_key == key)
        if due_before is not None:
            filters.append(Task.due_at < due_before)
        if search:
            filters.append(found_by(Task.instance_id, search))
        if instance_id is not None or business_key is not None:
            return self._few_tasks(actor, state, filters, sort, offset, limit, page, per_page,
                                   instance_id=instance_id, business_key=business_key)
        order = TASK_SORTS[sort]
        if assignee is not None:
            # One person's tasks are few: found by the assignee index, then sorted.
            mine = (sa.select(Task.id).where(Task.state == state, task_visible_to(actor),
                                             *filters).limit(self.count_cap + 1).subquery())
            total = int(self.session.scalar(sa.select(sa.func.count()).select_from(mine)) or 0)
            if total <= self.count_cap:
                return self._by_ids(mine, order, offset, limit, page, per_page, total)
        if (actor.is_admin and not actor.is_customer) or assignee is not None:
            # Along the due-date index: an admin sees every task.
            where = [Task.state == state, task_visible_to(actor), *filters]
            items = self._page(where, order, offset, limit)
            return self._counted(items, where, offset, limit, page, per_page)
        return self._by_candidates(actor, state, filters, sort, offset, limit, page, per_page,
                                   role=role)

    def _page(self, where: list[sa.ColumnElement[bool]], order: tuple[Any, ...], offset: int,
              limit: int) -> list[Task]:
        return list(self.session.scalars(sa.select(Task).where(*where).order_by(*order)
                                         .offset(offset).limit(limit)))

    def _counted(self, items: list[Task], where: list[sa.ColumnElement[bool]], offset: int,
                 limit: int, page: int, per_page: int) -> Page[Task]:
        """The page with its total: counted by a query that stops one past the cap."""
        if offset == 0 and len(items) < limit:
            return Page(items, len(items), page, per_page)  # the first page holds them all
        limited = sa.select(Task.id).where(*where).limit(self.count_cap + 1).subquery()
        total = int(self.session.scalar(sa.select(sa.func.count()).select_from(limited)) or 0)
        return Page(items, min(total, self.count_cap), page, per_page,
                    total_exact=total <= self.count_cap)

    def _by_candidates(self, actor: Actor, state: str,
                       filters: list[sa.ColumnElement[bool]], sort: str, offset: int,
                       limit: int, page: int, per_page: int, *, role: str | None
                       ) -> Page[Task]:
        """A staff member's or customer's list: their roles' and name's tasks and those
        assigned to them (a customer's, of their company only).

        First those tasks are counted off the candidate index and the assignee
        index, up to one past the cap (with filters, joined to the task rows).
        Then the page is read whichever way is cheaper:

        * by their ids, when they are few for the rows asked for (or the walk
          below found too few): a primary-key lookup each, then a small sort;
        * along the due-date index, no further than ``walk`` open tasks per row
          asked for. If the actor's tasks among them fill the page, they are the
          page: with a busy role (a fifth of all open tasks, say) this reads a
          few hundred index rows whatever the size. A customer's walk is along
          their company's index. Each task met is checked against its own
          candidate rows (``row_by_row``), so the walk costs what it reads;
        * along the index to the end, when they are past the cap and rare near
          the top (a role with thousands of tasks among a million), or the list
          is sorted otherwise: the cases whose cost grows with the size.
        """
        order = TASK_SORTS[sort]
        mine = self._candidate_task_ids(actor, state, filters, role)
        total = int(self.session.scalar(sa.select(sa.func.count()).select_from(mine)) or 0)
        capped = total > self.count_cap
        wanted = offset + limit
        if not capped and total <= self.sparse * wanted:
            return self._by_ids(mine, order, offset, limit, page, per_page, total)
        items: list[Task] | None = None
        if sort == "due":
            # The due order of the (walk * wanted)-th open task, the far future if fewer:
            # read off the index alone (ordering by the id too would read each row).
            walked = [Task.state == state]
            if actor.is_customer:
                walked.append(Task.company == actor.company)
            bound = sa.func.coalesce(
                sa.select(Task.due_order).where(*walked).order_by(Task.due_order)
                .offset(self.walk * wanted - 1).limit(1).scalar_subquery(), NO_DUE_DATE)
            near = self._page([Task.state == state, task_visible_to(actor, row_by_row=True),
                               *filters, Task.due_order <= bound], order, offset, limit)
            if len(near) == limit:
                items = near
        if items is None:
            if not capped:
                return self._by_ids(mine, order, offset, limit, page, per_page, total)
            where = [Task.state == state, task_visible_to(actor), *filters]
            items = self._page(where, order, offset, limit)
        return Page(items, min(total, self.count_cap), page, per_page, total_exact=not capped)

    def _candidate_task_ids(self, actor: Actor, state: str, filters: list[sa.ColumnElement[bool]],
                            role: str | None) -> sa.Subquery:
        """The ids of a staff member's or customer's tasks in ``state``, up to one past the cap.

        Read off two indexes: the candidate rows (which carry their task's
        state and company) and the tasks assigned to the actor. Each of the
        actor's names (theirs, then each role) is its own range of the candidate
        index, read in index order no further than one past the cap; UNION drops
        a task met twice. One condition over all names (an OR, an IN) would leave
        the choice to the planner, and with statistics SQLite and PostgreSQL both
        walked every task in the state instead, finished ones included.
        Filters need the task rows: each candidate row is then joined to its
        task by primary key. A list narrowed to a ``role`` the actor holds is
        that role's range alone: every task another of their names holds is in
        it too, if it is in the list at all.
        """
        enough = self.count_cap + 1
        names = [("group", role)] if role in actor.roles else candidate_names(actor)
        ranges = [self._named_range(actor, kind, value, state, filters).limit(enough)
                  for kind, value in names]
        own: list[sa.ColumnElement[bool]] = []
        if actor.is_customer:
            own.append(Task.company == actor.company)
        assigned = sa.select(Task.id).where(Task.state == state,
                                            Task.assignee == actor.username, *own, *filters)
        return sa.union(*(sa.select(part.subquery())
                          for part in [*ranges, assigned.limit(enough)])).subquery()

    @staticmethod
    def _named_range(actor: Actor, kind: str, value: str, state: str,
                     filters: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
        """One name's candidate rows in ``state`` (a customer's, of their company),
        ordered as the candidate index holds them so that every planner reads it."""
        named = sa.select(TaskCandidate.task_id.label("id")).where(
            TaskCandidate.kind == kind, TaskCandidate.value == value,
            TaskCandidate.state == state)
        if actor.is_customer:
            named = named.where(TaskCandidate.company == actor.company)
        if filters:
            named = named.join(Task, Task.id == TaskCandidate.task_id).where(*filters)
        return named.order_by(TaskCandidate.company, TaskCandidate.task_id)

    def _by_ids(self, mine: sa.Subquery, order: tuple[Any, ...], offset: int, limit: int,
                page: int, per_page: int, total: int) -> Page[Task]:
        """A page of a list all of whose ids ``mine`` holds (``total`` of them).

        The ids come from rows in the list's state, filtered already, so nothing
        is asked of the task rows again: on SQLite a condition on an indexed
        column of ``task`` could tempt the planner (which has no statistics)
        into walking that index past every open task instead.
        """
        if not total:
            return Page([], 0, page, per_page)
        items = list(self.session.scalars(
            sa.select(Task).join(mine, Task.id == mine.c.id).order_by(*order)
            .offset(offset).limit(limit)))
        return Page(items, total, page, per_page)

    def _few_tasks(self, actor: Actor, state: str, filters: list[sa.ColumnElement[bool]],
                   sort: str, offset: int, limit: int, page: int, per_page: int, *,
                   instance_id: str | None, business_key: str | None) -> Page[ListedTask]:
        """One instance's (or business key's) tasks: read all, keep those ``actor`` sees.

        An instance has a handful of tasks, so the rule is checked on each loaded
        row (:func:`sees`) and the page cut in Python. Listing one instance's open
        tasks is the most frequent call of all, so that statement is built once.
        """
        rows: Iterable[ListedTask]
        if instance_id is not None and business_key is None and not filters:
            rows = [TaskTableRow(*row) for row in _INSTANCE_TASKS[sort].all(
                self.session.connection(), {"instance_id": instance_id, "state": state})]
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

    def task(self, actor: Actor, task_id: str) -> Task:
        """Return a task ``actor`` may see; otherwise it does not exist for them."""
        task = self._task(task_id)
        if task is None or not sees(actor, task):
            raise NotFound(f"no task {task_id}")
        return task

    def actionable_task(self, actor: Actor, task_id: str) -> Task:
        """Return a task ``actor`` may act on: NotFound if unseen, Forbidden if only seen.

        A command on the task does this check on the row it reads itself
        (:func:`check_actionable`, as ``Services.submit_task`` does).
        """
        task = self._task(task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        check_actionable(actor, task_id, task)
        return task

    def _task(self, task_id: str) -> Task | None:
        # Session.get, with its statement built once (Session.get builds it anew each
        # time): a task the session holds already is returned as it is.
        found = self.session.identity_map.get(identity_key(Task, task_id))
        if found is not None:
            return found
        return self.session.scalars(_TASK, {"id": task_id}).first()

    # -- instances --------------------------------------------------------------------
