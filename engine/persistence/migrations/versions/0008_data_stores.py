"""BPMN data stores

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-10 10:00:00

One row per data store name: the value the tasks of every instance read and
write through their data associations (engine.bpmn.data, engine.data_stores).
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_store_entry",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("updated_at", engine.persistence.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_store_entry")),
    )


def downgrade() -> None:
    op.drop_table("data_store_entry")
