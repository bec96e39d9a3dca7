"""Fewer bytes per instance: indexes no query uses are dropped

Revision ID: 0014
Revises: 0013
Create Date: 2027-04-02 10:00:00

Each of these indexes was written with every row and read by no query:

- ``ix_document_sha256``: no query looks a document up by its digest (the file
  store is addressed by it, the table is not);
- ``ix_document_task_id``: a task's documents are read from its instance's
  (``ix_document_instance_id``), at most a few dozen rows;
- ``ix_notification_recipient_role`` and ``ix_notification_recipient_user``: who
  hears of a notification is read from the row the mailer already holds.

The history's compact forms (``engine.queries.history_documents``) need no schema
change: rows written before keep their full data and are read as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_DROPPED = (
    ("ix_document_sha256", "document", "sha256"),
    ("ix_document_task_id", "document", "task_id"),
    ("ix_notification_recipient_role", "notification", "recipient_role"),
    ("ix_notification_recipient_user", "notification", "recipient_user"),
)


def upgrade() -> None:
    for name, table, _ in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column])
