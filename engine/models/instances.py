"""Process instances and what they wait for: timers, messages, incidents."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUTCDateTime, CompactUUID, Str255

INSTANCE_STATUSES = ("running", "suspended", "completed", "cancelled", "error")


class ProcessInstance(Base):
    """A running or finished instance; ``state`` is its SpiffWorkflow state, without spec
    (or, after its :class:`ProcessInstanceStatePart` rows, the end of it).

    ``revision`` is an optimistic lock: every command bumps it, and a command
    that read an older revision cannot write.
    """

    __tablename__ = "process_instance"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('running', 'suspended', 'completed', 'cancelled', 'error')",
            name="status",
        ),
        sa.Index("ix_process_instance_key_status", "definition_key", "status"),
        # The instance lists' order (newest first, then id): a page is read off it.
        sa.Index("ix_process_instance_started", "started_at", "id"),
    )

    id: Mapped[str] = mapped_column(CompactUUID(), primary_key=True)
    definition_id: Mapped[str] = mapped_column(
        sa.ForeignKey("process_definition.id"), index=True
    )
    definition_key: Mapped[Str255]
    business_key: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[bytes] = mapped_column(sa.LargeBinary)
    revision: Mapped[int] = mapped_column(default=1)
    # Digest of the timers and messages last projected; unchanged waits skip the
    # timer and subscription tables entirely (most commands change neither).
    waits_digest: Mapped[str | None] = mapped_column(sa.String(40))
    started_by: Mapped[str | None] = mapped_column(sa.String(255))
    company: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    started_at: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(CompactUTCDateTime())

    __mapper_args__ = {"version_id_col": revision}


class ProcessInstanceStatePart(Base):
    """A piece of an instance's stored state that no later save changes.

    The state is one zlib stream (engine.bpmn.state_codec) that begins with the
    compressed finished tasks; a piece of that beginning, once long enough, is
    written here once, and ``process_instance.state`` keeps only the rest. The
    stream is the parts in ``seq`` order, then ``state``: a 100-KB variable set at
    the start is then not written again by every save. A finished instance's
    state has no parts.
    """

    __tablename__ = "process_instance_state_part"

    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
        primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Timer(Base):
    """A timer an instance waits on; the sweep fires it when ``due_at`` has passed."""

    __tablename__ = "timer"
    __table_args__ = (sa.Index("ix_timer_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(CompactUUID())
    element_id: Mapped[Str255]
    kind: Mapped[str] = mapped_column(sa.String(16))
    due_at: Mapped[datetime]


class EventSubscription(Base):
    """A message an instance waits for, so correlation is a query, not a scan."""

    __tablename__ = "event_subscription"
    __table_args__ = (sa.Index("ix_event_subscription_name", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(CompactUUID())
    element_id: Mapped[Str255]
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[Str255]


class Incident(Base):
    """A failure inside an instance (script, condition, handler) waiting for an admin."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(CompactUUID())
    element_id: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    traceback: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="open", index=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(255))


class StartTimer(Base):
    """A timer start event of the latest version of a process: it starts instances.

    ``remaining`` counts the starts still to come for a cycle (-1: endless);
    ``interval_seconds`` is the cycle's step. A date or duration starts once.
    """

    __tablename__ = "start_timer"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    definition_id: Mapped[str] = mapped_column(
        sa.ForeignKey("process_definition.id", ondelete="CASCADE"), index=True
    )
    definition_key: Mapped[Str255] = mapped_column(index=True)
    element_id: Mapped[Str255]
    due_at: Mapped[datetime] = mapped_column(index=True)
    remaining: Mapped[int] = mapped_column(default=1)
    interval_seconds: Mapped[float | None]
