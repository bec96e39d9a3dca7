"""Who may see and act on what: the access rules, as SQL conditions and on loaded rows,
and the page every list returns.

A list query narrows by :func:`task_visible_to` and :func:`instance_visible_to`;
a command or a page that holds a task row checks it with :func:`sees`,
:func:`may_act_on` and :func:`check_actionable`, which agree with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import ProcessInstance, Task, TaskCandidate

# Covariant: a page of tasks read as ORM models is a page of listed tasks too.
T = TypeVar("T", covariant=True)

MAX_PER_PAGE = 200


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


def candidate_names(actor: Actor) -> list[tuple[str, str]]:
    """The (kind, value) of each candidate row that names ``actor``: their user name,
    then each of their roles."""
    return [("user", actor.username), *(("group", role) for role in sorted(actor.roles))]


def _candidate_of(actor: Actor) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(TaskCandidate.kind == "user", TaskCandidate.value == actor.username),
        sa.and_(TaskCandidate.kind == "group", TaskCandidate.value.in_(sorted(actor.roles))),
    )


def task_visible_to(actor: Actor, *, row_by_row: bool = False) -> sa.ColumnElement[bool]:
    """The condition under which ``actor`` may see a task (and, if unclaimed, act on it).

    ``row_by_row`` checks the candidate rows of each task read, by its primary
    key, for a walk that stops after a few hundred tasks: PostgreSQL would
    otherwise turn the check into a join that first hashes every candidate row
    of the actor's roles, finished tasks' included. ``OFFSET 0`` is what keeps
    it from doing so (it does not turn a subquery with an offset into a join).
    """
    rows = sa.select(sa.literal_column("1", sa.Integer)).where(
        TaskCandidate.task_id == Task.id, _candidate_of(actor))
    candidate = (rows.offset(0) if row_by_row else rows).exists()
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


class TaskAccess(Protocol):
    """What the access rules read of a task: an ORM ``Task`` or a command's row."""

    @property
    def company(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def candidate_groups(self) -> list[str]: ...
    @property
    def candidate_users(self) -> list[str]: ...


def sees(actor: Actor, task: TaskAccess) -> bool:
    """:func:`task_visible_to` for a loaded task: admins see all, others what they may act on."""
    return (actor.is_admin and not actor.is_customer) or may_act_on(actor, task)


def check_actionable(actor: Actor, task_id: str, task: TaskAccess) -> None:
    """Refuse ``actor`` a task they may not act on: NotFound if they may not even see
    it (it does not exist for them), Forbidden if they only see it."""
    if not sees(actor, task):
        raise NotFound(f"no task {task_id}")
    if not may_act_on(actor, task):
        raise Forbidden(f"task {task_id} belongs to {', '.join(task.candidate_groups)}; "
                        "you do not have that role")


def may_act_on(actor: Actor, task: TaskAccess) -> bool:
    """Whether ``actor`` is a candidate or the assignee; an admin may act on any task."""
    if actor.is_customer and task.company != actor.company:
        return False
    if actor.is_admin:
        return True
    if task.assignee == actor.username:
        return True
    return (actor.username in task.candidate_users
            or any(group in actor.roles for group in task.candidate_groups))

