"""User tasks projected out of the workflow state, so task lists are plain queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.persistence.db import Base, CompactUTCDateTime, CompactUUID, Str255
from engine.persistence.packing import CodedText

TASK_STATES = ("ready", "completed", "cancelled")
#: A candidate row names a role (``group``) or a user.
CANDIDATE_KINDS = ("group", "user")
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class Task(Base):
    """A user task of an instance. ``id`` is the SpiffWorkflow task id."""

    __tablename__ = "task"
    __table_args__ = (
        # Assigned tasks only (most tasks are never assigned): "assignee = ?" implies
        # "assignee IS NOT NULL", so the lists' reads by assignee still use it.
        sa.Index("ix_task_state_assignee", "state", "assignee",
                 sqlite_where=sa.text("assignee IS NOT NULL"),
                 postgresql_where=sa.text("assignee IS NOT NULL")),
        sa.Index("ix_task_instance_state", "instance_id", "state"),
        # The task list's default order (soonest due first, undated last) read
        # straight off an index, for everyone and for one company's customers.
        sa.Index("ix_task_state_due", "state", "due_order", "created_at"),
        sa.Index("ix_task_company_state_due", "company", "state", "due_order", "created_at"),
        # "Completed by me", newest first.
        sa.Index("ix_task_completed_by", "completed_by", "completed_at"),
    )

    id: Mapped[str] = mapped_column(CompactUUID(), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    definition_key: Mapped[Str255]
    element_id: Mapped[Str255]
    title: Mapped[str | None] = mapped_column(sa.String(255))
    lane: Mapped[str | None] = mapped_column(sa.String(255))
    # The instance's company, copied so a customer's task list is one indexed query.
    company: Mapped[str | None] = mapped_column(sa.String(255))
    # A byte on SQLite (CodedText), in the row and in the four indexes holding it.
    state: Mapped[str] = mapped_column(CodedText(TASK_STATES, 16))
    assignee: Mapped[str | None] = mapped_column(sa.String(255))
    priority: Mapped[int] = mapped_column(default=50)
    form_key: Mapped[str | None] = mapped_column(sa.String(255))
    # The extension properties read off the row (excludeCompletersOf); the others are
    # the deployed definition's (engine.runtime.projection).
    properties: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    # Not indexed: "due before" reads due_order, which the list indexes hold.
    due_at: Mapped[datetime | None] = mapped_column(CompactUTCDateTime())
    # due_at, or the far future for a task without one: sorts the same on every
    # database (SQLite puts NULL first, PostgreSQL last) and indexes plainly.
    due_order: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    follow_up_at: Mapped[datetime | None] = mapped_column(CompactUTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(CompactUTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(sa.String(255))
    # The candidates as lists on the row, in the order the process names them:
    # a task read for its access check or for a list needs no second query.
    # task_candidate holds them again as the index that lists search by role.
    # Both are written once, when the task is created, and never change.
    candidate_groups: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    candidate_users: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan")


class TaskCandidate(Base):
    """A role (group) or user who may claim and complete a task."""

    __tablename__ = "task_candidate"
    __table_args__ = (
        # A role's (or user's) open tasks, and, with the company, a customer's: one
        # range each, read off the index alone.
        sa.Index("ix_task_candidate_open", "kind", "value", "state", "company", "task_id"),
        # The key is most of the row: on SQLite the row lives in the key's b-tree,
        # not in a table and again in the key (migration 0017).
        {"sqlite_with_rowid": False},
    )

    task_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(CodedText(CANDIDATE_KINDS, 8), primary_key=True)
    value: Mapped[Str255] = mapped_column(primary_key=True)
    # The task's state, copied so "how many open tasks has this role" reads one
    # index range instead of joining every candidate row to its task.
    # On SQLite a trigger (migration 0015) keeps it equal to the task's state, so
    # finishing a task is one UPDATE there as on PostgreSQL (engine.runtime.store).
    # Coded as the task's is; the server default (text) is never relied on: every
    # insert names the state (engine.runtime.store).
    state: Mapped[str] = mapped_column(CodedText(TASK_STATES, 16), default="ready",
                                       server_default="ready")
    # The task's company, copied so a customer's list is counted off this index
    # (among a million open tasks a company has a few thousand).
    company: Mapped[str | None] = mapped_column(sa.String(255))

