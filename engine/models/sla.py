"""SLA breaches of user tasks and the notifications that escalate them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID, Str255


class SlaBreach(Base):
    """A user task that passed its due time (``camunda:dueDate``).

    ``completed_at`` is filled when the task is finally done, so lateness is
    ``completed_at - due_at``; while it is open the lateness grows.
    """

    __tablename__ = "sla_breach"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(CompactUUID(), unique=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    definition_key: Mapped[Str255]
    element_id: Mapped[Str255]
    title: Mapped[str | None] = mapped_column(sa.String(255))
    roles: Mapped[str] = mapped_column(sa.String(255), default="")
    assignee: Mapped[str | None] = mapped_column(sa.String(255))
    due_at: Mapped[datetime]
    detected_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(sa.String(255))
    escalated_to: Mapped[str | None] = mapped_column(sa.String(255))


class Notification(Base):
    """A message for a role or a user; also sent by e-mail when SMTP is configured."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_pending_email", "emailed_at", "id"),
                      sa.Index("ix_notification_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    recipient_role: Mapped[str | None] = mapped_column(sa.String(64))
    recipient_user: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    instance_id: Mapped[str | None] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(CompactUUID())
    created_at: Mapped[datetime]
    emailed_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(sa.Text)
    email_attempts: Mapped[int] = mapped_column(default=0)
    #: After a failed attempt, not tried again before this (1, 2, 4, ... minutes).
    next_attempt_at: Mapped[datetime | None]
    #: The user whose command caused it: not told of what they did themselves.
    caused_by: Mapped[str | None] = mapped_column(sa.String(255))
