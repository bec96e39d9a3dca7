"""user notification settings

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-20 10:00:00

Each user's choice of e-mail notifications (every task, a daily digest, none),
the language of their e-mails, and the day their last digest went out. Only
columns are added to ``app_user``, so the revision may follow any other one:
only ``down_revision`` names its place in the chain.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify", sa.String(length=8), nullable=False,
                                      server_default="every"))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                                      server_default="id"))
        batch_op.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_on")
        batch_op.drop_column("language")
        batch_op.drop_column("notify")
