"""History: large values stored once per instance

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-20 10:00:00

A value of more than 2 KiB of JSON recorded in an instance's history (a large
variable given at the start and resubmitted by forms) is kept once per instance
in ``history_value``, zlib-compressed and keyed by the SHA-256 of its JSON; the
events refer to it. Rows go with their instance, as the events do.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history_value",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name=op.f("fk_history_value_instance_id_process_instance"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id", "hash", name=op.f("pk_history_value")),
    )


def downgrade() -> None:
    op.drop_table("history_value")
