"""What the mails say of awaited messages a role records, and whether one still waits.

An instance that starts waiting for a message with ``recordedBy`` queues one
``message_awaited`` notification (:mod:`engine.runtime.projection`); its
``task_id`` is the waiting element's, as in the ``event_subscription`` row. The
mail goes out only while that subscription is there: once the message has
arrived (or the instance ended or moved on) there is nothing left to record.
The event's name and its deadline come from the definition's ``recordedBy``
catalogue (:mod:`engine.queries.awaited`), read once per definition version.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import (
    EventSubscription,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    Timer,
)
from engine.queries.awaited import AwaitedMessage, AwaitedWork

from .texts import AwaitedFacts


def still_awaited(session: Session, notification: Notification,
                  work: AwaitedWork | None) -> AwaitedFacts | None:
    """The message the notification is about, if its instance still waits for it.

    Without ``work`` (a mailer built without it) the mail names no event and no
    deadline, but still goes out.
    """
    row = session.execute(
        sa.select(EventSubscription.element_id, EventSubscription.name,
                  ProcessInstance.definition_id, ProcessInstance.business_key,
                  ProcessInstance.company, ProcessDefinition.name.label("process"))
        .join(ProcessInstance, ProcessInstance.id == EventSubscription.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(EventSubscription.instance_id == notification.instance_id,
               EventSubscription.task_id == notification.task_id,
               EventSubscription.kind == "message", ProcessInstance.status == "running")
    ).first()
    if row is None:
        return None
    key = (row.definition_id, row.element_id, row.name)
    catch = work.recorded_by([row.definition_id]).get(key) if work is not None else None
    deadline = None
    if catch is not None and catch.timers:
        deadline = session.scalar(
            sa.select(sa.func.min(Timer.due_at))
            .where(Timer.instance_id == notification.instance_id,
                   Timer.element_id.in_(sorted(catch.timers))))
    return AwaitedFacts(
        instance_id=str(notification.instance_id), message=row.name,
        label=catch.label if catch is not None else None, process=row.process,
        business_key=row.business_key, company=row.company, deadline=deadline)


def facts_of_awaited(session: Session, items: Sequence[AwaitedMessage]) -> list[AwaitedFacts]:
    """The awaited messages of a list (:meth:`AwaitedWork.list`), as a mail tells them."""
    if not items:
        return []
    processes: dict[str, str | None] = dict(session.execute(
        sa.select(ProcessInstance.id, ProcessDefinition.name)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id.in_(sorted({i.instance_id for i in items})))).all())
    return [AwaitedFacts(instance_id=i.instance_id, message=i.message, label=i.label or None,
                         process=processes.get(i.instance_id), business_key=i.business_key,
                         company=i.company, deadline=i.deadline) for i in items]
