"""An instance state's unchanging beginning in rows of its own, written once

Revision ID: 0019
Revises: 0018
Create Date: 2027-04-06 10:00:00

``process_instance_state_part`` holds pieces of the beginning of an instance's
state (the compressed finished tasks, a 100-KB variable set at the start among
them), each written once; ``process_instance.state`` keeps the rest, so a save
writes what changed, not the whole state again (engine.runtime.store). States
written before have no parts and read as before. The downgrade joins each
instance's parts back into its ``state``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_instance_state_part",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instance.id"],
            name=op.f("fk_process_instance_state_part_instance_id_process_instance"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id", "seq",
                                name=op.f("pk_process_instance_state_part")),
    )


def downgrade() -> None:
    connection = op.get_bind()
    parts = sa.table("process_instance_state_part", sa.column("instance_id"),
                     sa.column("seq", sa.Integer), sa.column("data", sa.LargeBinary))
    instances = sa.table("process_instance", sa.column("id"),
                         sa.column("state", sa.LargeBinary))
    ids = connection.execute(sa.select(parts.c.instance_id).distinct()).scalars().all()
    for instance_id in ids:  # the ids as stored (bytes on SQLite since 0018)
        pieces = connection.execute(
            sa.select(parts.c.data).where(parts.c.instance_id == instance_id)
            .order_by(parts.c.seq)).scalars().all()
        rest = connection.execute(sa.select(instances.c.state)
                                  .where(instances.c.id == instance_id)).scalar_one()
        connection.execute(instances.update().where(instances.c.id == instance_id)
                           .values(state=b"".join([*pieces, rest])))
    op.drop_table("process_instance_state_part")
