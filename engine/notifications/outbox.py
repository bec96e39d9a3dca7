"""Queueing notifications: one ``notification`` row, in the command's transaction.

A notification names what happened (its ``kind``) and the task or instance it
concerns; who hears of it is decided when the mailer sends it
(:mod:`.recipients`), so a command that makes a task writes exactly one row
however many people hold the task's role. The row's ``subject`` and ``body``
keep an Indonesian summary for whoever reads the table; the mail itself is
written per reader, in their language (:mod:`.texts`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.models import Notification

# Someone is asked to do a user task: its assignee, else its candidate users,
# else the members of its candidate roles.
TASK_CREATED = "task_created"
# A task passed its due time (engine.time.sla): to the role it escalates to, or
# to its assignee.
SLA_BREACH = "sla_breach"

_notification: sa.Table = Notification.__table__  # type: ignore[assignment]
# Built once: a command that creates a task runs it (see engine.runtime.store on why).
_INSERT = _notification.insert()


def queue(session: Session, *, kind: str, now: datetime, subject: str, body: str = "",
          instance_id: str | None = None, task_id: str | None = None,
          recipient_role: str | None = None, recipient_user: str | None = None) -> None:
    """Add one notification to the outbox; the sweep's mailer sends it.

    Another kind of notification (an awaited message a role records, say) is
    queued the same way with a kind of its own; a kind the mailer has no words
    for is sent with the stored ``subject`` and ``body``.
    """
    session.connection().execute(_INSERT, [{
        "kind": kind, "subject": subject[:255], "body": body, "instance_id": instance_id,
        "task_id": task_id, "recipient_role": recipient_role,
        "recipient_user": recipient_user, "created_at": now, "emailed_at": None,
        "email_error": None, "email_attempts": 0}])


def queue_task_created(session: Session, *, task_id: str, instance_id: str,
                       title: str | None, now: datetime) -> None:
    """Tell whoever may do a new user task that it waits for them."""
    queue(session, kind=TASK_CREATED, now=now, subject=f"Tugas baru: {title or '-'}",
          instance_id=instance_id, task_id=task_id)
