"""Documents rendered after their command: a pending document and its render queue

Revision ID: 0013
Revises: 0011
Create Date: 2027-03-20 10:00:00

A generated document may be stored before its file exists: the command freezes the
renderer's input (what the document will say) and the file is made after the
command commits. Until then ``document.sha256`` and ``document.size`` are null and
``document_render`` holds the input, the renderer's name (registered by an
extension), the attempts, the last error and when to try again; ``claimed_until``
and ``claim`` let exactly one renderer work on a row at a time, and
``incident_id`` names the incident opened when the attempts ran out.
"""

import sqlalchemy as sa
from alembic import op

from engine.persistence.db import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("size", existing_type=sa.BigInteger(), nullable=True)
    op.create_table(
        "document_render",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("renderer", sa.String(length=64), nullable=False),
        sa.Column("input", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_document_render_document_id_document"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_render")),
    )
    op.create_index("ix_document_render_next_attempt_at", "document_render",
                    ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_document_render_next_attempt_at", table_name="document_render")
    op.drop_table("document_render")
    with op.batch_alter_table("document") as batch_op:
        batch_op.alter_column("size", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
