"""Who a notification reaches, and what the mails say of its task.

Recipients are resolved when the mail goes out, not when the notification is
queued: a task's assignee if it has one, else its candidate users, else the
members of its candidate roles; a notification addressed to a role or a user
reaches that role's members or that user. Only active users with an e-mail
address are mailed, and a customer (a user whose only role is the customer
role) only about work of their own company, as the task list shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.identity.access import ADMIN, Actor
from engine.models import Notification, ProcessDefinition, ProcessInstance, Task, User, UserRole
from engine.queries.lists import task_visible_to

from .outbox import TASK_CREATED
from .texts import TaskFacts

# A digest lists at most this many tasks, soonest due first, and counts the rest.
DIGEST_LIMIT = 30


def actor_of(user: User) -> Actor:
    return Actor(user.username, user.role_names, user.company)


def _mailable(session: Session, condition: sa.ColumnElement[bool]) -> list[User]:
    return list(session.scalars(
        sa.select(User).where(condition, User.active.is_(True), User.email.is_not(None),
                              User.email != "")
        .order_by(User.username)))


def users_named(session: Session, names: Iterable[str]) -> list[User]:
    return _mailable(session, User.username.in_(sorted(set(names))))


def members_of(session: Session, roles: Iterable[str]) -> list[User]:
    holders = sa.select(UserRole.user_id).where(UserRole.role.in_(sorted(set(roles))))
    return _mailable(session, User.id.in_(holders))


def _of_company(users: Sequence[User], company: str | None) -> list[User]:
    """Customers hear only of their own company's work; staff of any."""
    return [u for u in users if not actor_of(u).is_customer or
            (company is not None and u.company == company)]


def recipients(session: Session, notification: Notification,
               task: Task | None) -> list[User]:
    """The users a notification reaches (before their own settings are applied)."""
    company = task.company if task is not None else None
    if company is None and notification.instance_id:
        instance = session.get(ProcessInstance, notification.instance_id)
        company = instance.company if instance is not None else None
    if notification.kind == TASK_CREATED and task is not None:
        if task.assignee:
            found = users_named(session, [task.assignee])
        elif task.candidate_users:
            found = users_named(session, task.candidate_users)
        else:
            found = members_of(session, task.candidate_groups)
    elif notification.recipient_user:
        found = users_named(session, [notification.recipient_user])
    elif notification.recipient_role:
        found = members_of(session, [notification.recipient_role])
    else:
        found = []
    return _of_company(found, company)


def facts_of(session: Session, tasks: Sequence[Task]) -> list[TaskFacts]:
    """What the mails tell of these tasks (two queries for any number of them)."""
    instance_ids = sorted({t.instance_id for t in tasks})
    cases = {row.id: row for row in session.execute(
        sa.select(ProcessInstance.id, ProcessInstance.business_key, ProcessDefinition.name)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id.in_(instance_ids)))}
    assignees = {t.assignee for t in tasks if t.assignee}
    names = {name: shown for name, shown in session.execute(
        sa.select(User.username, User.display_name)
        .where(User.username.in_(sorted(assignees))))} if assignees else {}
    found = []
    for task in tasks:
        case = cases.get(task.instance_id)
        found.append(TaskFacts(
            task_id=task.id, title=task.title,
            process=case.name if case is not None else None,
            business_key=case.business_key if case is not None else None,
            company=task.company, due_at=task.due_at,
            roles=list(task.candidate_groups) or ([task.lane] if task.lane else []),
            assignee=(names.get(task.assignee) or task.assignee) if task.assignee else None))
    return found


def waiting_for(session: Session, user: User) -> tuple[list[Task], int]:
    """The open tasks a digest lists for ``user``: theirs, and their roles' unclaimed.

    An administrator's digest lists what is asked of them, not every task they
    could open. Returns the first :data:`DIGEST_LIMIT` and how many more there are.
    """
    plain = Actor(user.username, user.role_names - {ADMIN}, user.company)
    where = [Task.state == "ready", task_visible_to(plain),
             sa.or_(Task.assignee.is_(None), Task.assignee == user.username)]
    tasks = list(session.scalars(sa.select(Task).where(*where)
                                 .order_by(Task.due_order, Task.created_at)
                                 .limit(DIGEST_LIMIT + 1)))
    if len(tasks) <= DIGEST_LIMIT:
        return tasks, 0
    total = session.scalar(sa.select(sa.func.count()).select_from(Task).where(*where)) or 0
    return tasks[:DIGEST_LIMIT], int(total) - DIGEST_LIMIT
