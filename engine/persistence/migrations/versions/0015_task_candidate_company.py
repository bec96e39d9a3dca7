"""Customers' task lists off the candidate index; one UPDATE finishes a task on SQLite

Revision ID: 0015
Revises: 0014
Create Date: 2027-04-02 10:00:00

``task_candidate.company`` copies its task's company, and the open-candidate index
gains it after the state: a customer's open tasks are then one index range of
their role and company, counted without reading a task row (among a million open
tasks, the old count read every task of the company and checked its candidates).
Existing rows get their task's company.

``ix_task_due_at`` goes: every query on the due time of open tasks reads
``due_order`` through the list indexes.

On SQLite a trigger sets the candidates' state when their task's state changes,
so the runtime finishes a task with one UPDATE (PostgreSQL does both in one
statement already).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# A later migration that rebuilds task on SQLite (batch mode's copy) drops this
# trigger and must create it again: tests/engine/test_persistence.py checks it works.
SQLITE_CANDIDATES_FOLLOW_TASK = (
    "CREATE TRIGGER tr_task_candidate_state AFTER UPDATE OF state ON task "
    "FOR EACH ROW WHEN NEW.state IS NOT OLD.state BEGIN "
    "UPDATE task_candidate SET state = NEW.state WHERE task_id = NEW.id; END")


def upgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company", sa.String(length=255), nullable=True))
        batch_op.drop_index("ix_task_candidate_open")
    candidate = sa.table("task_candidate", sa.column("task_id"), sa.column("company"))
    task = sa.table("task", sa.column("id"), sa.column("company"))
    op.execute(candidate.update().values(company=sa.select(task.c.company).where(
        task.c.id == candidate.c.task_id).scalar_subquery()))
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.create_index("ix_task_candidate_open",
                              ["kind", "value", "state", "company", "task_id"])
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_due_at")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_CANDIDATES_FOLLOW_TASK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_task_candidate_state")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_due_at", ["due_at"])
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidate_open")
        batch_op.create_index("ix_task_candidate_open", ["kind", "value", "state", "task_id"])
        batch_op.drop_column("company")
