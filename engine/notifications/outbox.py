"""Queueing notifications: one ``notification`` row, in the command's transaction.

A notification names what happened (its ``kind``) and the task or instance it
concerns; who hears of it is decided when the mailer sends it
(:mod:`.recipients`), so a command that makes a task writes exactly one row
however many people hold the task's role. The row's ``subject`` and ``body``
keep an Indonesian summary for whoever reads the table; the mail itself is
written per reader, in their language (:mod:`.texts`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import Notification

# Someone is asked to do a user task: its assignee, else its candidate users,
# else the members of its candidate roles.
TASK_CREATED = "task_created"
# A task passed its due time (engine.time.sla): to the role it escalates to, or
# to its assignee.
SLA_BREACH = "sla_breach"
# An instance started waiting for a message a role records (``recordedBy``): to that
# role's members; ``task_id`` is the waiting element's, the subscription's task id.
MESSAGE_AWAITED = "message_awaited"
# A task was handed over to a user (``assign_task``): to that user.
TASK_ASSIGNED = "task_assigned"

_notification: sa.Table = Notification.__table__  # type: ignore[assignment]
# Built once: a command that creates a task runs it (see engine.runtime.store on why).
_INSERT = _notification.insert()


# Takes a notification row to write later with the command's other rows
# (engine.runtime.store.InstanceStore.add_row).
Sink = Callable[[sa.Table, dict[str, Any]], None]


def queue(session: Session, *, kind: str, now: datetime, subject: str, body: str = "",
          instance_id: str | None = None, task_id: str | None = None,
          recipient_role: str | None = None, recipient_user: str | None = None,
          caused_by: str | None = None, sink: Sink | None = None) -> None:
    """Add one notification to the outbox; the sweep's mailer sends it.

    A kind the mailer has no words for is sent with the stored ``subject`` and
    ``body``. ``caused_by`` names the user whose command this is: they are not
    mailed about it (they are looking at it). With ``sink`` the row is handed to
    it instead of written at once.
    """
    row = {
        "kind": kind, "subject": subject[:255], "body": body, "instance_id": instance_id,
        "task_id": task_id, "recipient_role": recipient_role,
        "recipient_user": recipient_user, "created_at": now, "emailed_at": None,
        "email_error": None, "email_attempts": 0, "next_attempt_at": None,
        "caused_by": caused_by}
    if sink is not None:
        sink(_notification, row)
    else:
        session.connection().execute(_INSERT, [row])


def queue_task_created(session: Session, *, task_id: str, instance_id: str,
                       title: str | None, now: datetime, caused_by: str | None = None,
                       sink: Sink | None = None) -> None:
    """Tell whoever may do a new user task that it waits for them."""
    queue(session, kind=TASK_CREATED, now=now, subject=f"Tugas baru: {title or '-'}",
          instance_id=instance_id, task_id=task_id, caused_by=caused_by, sink=sink)


def queue_message_awaited(session: Session, *, instance_id: str, task_id: str, role: str,
                          label: str, now: datetime, caused_by: str | None = None) -> None:
    """Tell a role's members that an instance waits for a message they record."""
    queue(session, kind=MESSAGE_AWAITED, now=now, subject=f"Menunggu dicatat: {label or '-'}",
          instance_id=instance_id, task_id=task_id, recipient_role=role,
          caused_by=caused_by)


def queue_task_assigned(session: Session, *, task_id: str, instance_id: str, assignee: str,
                        title: str | None, now: datetime, caused_by: str | None = None
                        ) -> bool:
    """Tell a user that a task was handed over to them; return whether a row was queued.

    While the task's new-task notice is still unsent, it is the one that tells
    them (its recipients are read when it is sent): no second mail of one task.
    """
    # Found through the instance's index: task_id has none of its own, and where no
    # SMTP is configured every notice stays unsent for SERTIFLOW_NOTIFICATION_DAYS.
    unsent = session.connection().execute(
        sa.select(_notification.c.id).where(
            _notification.c.instance_id == instance_id, _notification.c.task_id == task_id,
            _notification.c.kind == TASK_CREATED,
            _notification.c.emailed_at.is_(None)).limit(1)).first()
    if unsent is not None:
        return False
    queue(session, kind=TASK_ASSIGNED, now=now,
          subject=f"Tugas diserahkan kepada Anda: {title or '-'}", instance_id=instance_id,
          task_id=task_id, recipient_user=assignee, caused_by=caused_by)
    return True


# The kinds that tell of work waiting in an instance: once it has ended none of them is
# ever sent (the mailer checks the task or the awaited message is still there).
WORK_KINDS = (TASK_CREATED, TASK_ASSIGNED, MESSAGE_AWAITED)
# Run by the command that ends an instance (engine.runtime.store): its notices of work
# would otherwise wait out SERTIFLOW_NOTIFICATION_DAYS, about a quarter of the bytes a
# finished instance keeps besides its history. SLA breaches stay (still mailed).
# Rows a mailer on PostgreSQL holds while it talks to SMTP are skipped, not waited for:
# the command that ends an instance must not wait out an SMTP timeout; the sweep's
# purge takes those rows later.
FORGET_WORK = _notification.delete().where(_notification.c.id.in_(
    sa.select(_notification.c.id).where(
        _notification.c.instance_id == sa.bindparam("p_instance"),
        _notification.c.kind.in_(WORK_KINDS)).with_for_update(skip_locked=True)))


def purge(session: Session, *, before: datetime) -> int:
    """Delete the notifications created before ``before``, sent or not; return how many.

    Without SMTP nothing is ever sent, and sent rows serve nobody after a while:
    the sweep keeps the table to the last days (``SERTIFLOW_NOTIFICATION_DAYS``).
    """
    result = session.execute(_notification.delete().where(
        _notification.c.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt a mail is tried again.

    1, 2, 4, ... minutes, at most a day: a short outage of the SMTP server delays
    mails by minutes; a long one costs one attempt a day, not one a second.
    """
    return min(timedelta(minutes=2 ** min(max(attempts, 1) - 1, 20)), timedelta(days=1))
