"""task candidate lists on the task row

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 20:10:00

Each task carries its candidate groups and users as JSON lists, so that reading
a task needs no second query; task_candidate stays as the index by role. Tasks
that exist get their lists from their task_candidate rows.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_groups", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("candidate_users", sa.JSON(), nullable=True))

    connection = op.get_bind()
    candidate = sa.table("task_candidate", sa.column("task_id"), sa.column("kind"),
                         sa.column("value"))
    task = sa.table("task", sa.column("id"), sa.column("candidate_groups", sa.JSON()),
                    sa.column("candidate_users", sa.JSON()))
    lists: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"group": [], "user": []})
    rows = connection.execute(sa.select(candidate.c.task_id, candidate.c.kind,
                                        candidate.c.value)
                              .order_by(candidate.c.task_id, candidate.c.kind,
                                        candidate.c.value))
    for task_id, kind, value in rows:
        lists[task_id][kind].append(value)
    update = (task.update().where(task.c.id == sa.bindparam("p_id"))
              .values(candidate_groups=sa.bindparam("groups"),
                      candidate_users=sa.bindparam("users")))
    batch = [{"p_id": task_id, "groups": found["group"], "users": found["user"]}
             for task_id, found in lists.items()]
    if batch:
        connection.execute(update, batch)
    empty = (task.update().where(task.c.candidate_groups.is_(None))
             .values(candidate_groups=[], candidate_users=[]))
    connection.execute(empty)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.alter_column("candidate_groups", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("candidate_users", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("candidate_users")
        batch_op.drop_column("candidate_groups")
