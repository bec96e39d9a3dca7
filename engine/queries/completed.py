"""The tasks a person completed, newest first: their own record of work done.

Completed tasks stay in the ``task`` table with who completed them and when, so
this is one indexed read (``ix_task_completed_by``), filtered like the task list.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Forbidden
from engine.identity.access import Actor
from engine.models import Task
from engine.queries.lists import Page, page_bounds
from engine.queries.search import found_by


def completed_by(session: Session, actor: Actor, username: str | None = None, *,
                 key: str | None = None, search: str | None = None,
                 page: int = 1, per_page: int = 50) -> Page[Task]:
    """The tasks ``username`` (default: the actor) completed, the latest first.

    Only an admin may list another person's; a customer sees only their company's.
    """
    who = actor.username if username in (None, "me") else username
    if who != actor.username and not (actor.is_admin and not actor.is_customer):
        raise Forbidden("you may list only the tasks you completed yourself")
    offset, limit = page_bounds(page, per_page)
    where: list[sa.ColumnElement[bool]] = [Task.completed_by == who, Task.state == "completed"]
    if actor.is_customer:
        where.append(Task.company == actor.company)
    if key is not None:
        where.append(Task.definition_key == key)
    if search:
        where.append(found_by(Task.instance_id, search))
    total = session.scalar(sa.select(sa.func.count()).select_from(Task).where(*where))
    items = session.scalars(sa.select(Task).where(*where)
                            .order_by(Task.completed_at.desc(), Task.id)
                            .offset(offset).limit(limit))
    return Page(list(items), int(total or 0), page, per_page)
