"""Notifications: when to try a failed mail again, who caused them, age index

Revision ID: 0011
Revises: 0010
Create Date: 2027-03-08 10:00:00

``next_attempt_at`` spaces the retries of a mail the SMTP server did not take
(1, 2, 4, ... minutes, at most a day apart); ``caused_by`` names the user whose
command queued the notification, who is not mailed about their own doing. The
index on ``created_at`` serves the sweep that deletes old notifications.
"""

import sqlalchemy as sa
from alembic import op

from engine.persistence.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("caused_by", sa.String(length=255), nullable=True))
        batch_op.create_index("ix_notification_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_index("ix_notification_created_at")
        batch_op.drop_column("caused_by")
        batch_op.drop_column("next_attempt_at")
