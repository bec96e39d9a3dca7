"""task list indexes, candidate state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 15:45:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import engine.persistence.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_order", engine.persistence.db.UTCDateTime(timezone=True),
                                      nullable=True))
    task = sa.table("task", sa.column("due_at"), sa.column("due_order"))
    far_future = sa.literal(FAR_FUTURE, engine.persistence.db.UTCDateTime(timezone=True))
    op.execute(task.update().values(due_order=sa.func.coalesce(task.c.due_at, far_future)))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.alter_column("due_order", nullable=False)
        batch_op.drop_index("ix_task_company")
        batch_op.create_index("ix_task_state_due", ["state", "due_order", "created_at"])
        batch_op.create_index("ix_task_company_state_due",
                              ["company", "state", "due_order", "created_at"])

    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="ready",
                                      nullable=False))
        batch_op.drop_index("ix_task_candidate_lookup")
        batch_op.create_index("ix_task_candidate_open", ["kind", "value", "state", "task_id"])
    candidate = sa.table("task_candidate", sa.column("task_id"), sa.column("state"))
    task_state = sa.table("task", sa.column("id"), sa.column("state"))
    op.execute(candidate.update().values(state=sa.select(task_state.c.state).where(
        task_state.c.id == candidate.c.task_id).scalar_subquery()))


def downgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidate_open")
        batch_op.create_index("ix_task_candidate_lookup", ["kind", "value"])
        batch_op.drop_column("state")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_company_state_due")
        batch_op.drop_index("ix_task_state_due")
        batch_op.create_index("ix_task_company", ["company"])
        batch_op.drop_column("due_order")
