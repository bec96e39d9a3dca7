"""Instance, task and document ids as 16 bytes on SQLite, in every column holding one

Revision ID: 0018
Revises: 0017
Create Date: 2027-04-05 10:00:00

Revision 0017 stored the history's and the documents' ``task_id`` as ``CompactUUID``.
Here every other column holding an instance's, a task's or a document's UUID takes
it too: the keys, the columns referring to them, and the ids kept without a key
(timers, subscriptions, incidents, breaches, notifications, data stores). Every row
of an instance carries its id, most of them in an index too: 17 bytes where the
text took 37, per value.

The rows written before are converted, keys and the columns referring to them in one
transaction, so each column holds one form: SQLite never finds bytes equal to text.
Ids that are no canonical UUID stay text. The declared types stay as they were;
PostgreSQL is left as it is.
"""

from alembic import op

from engine.persistence.sqlite_values import pack_ids, unpack_ids

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

IDS = {
    "process_instance": ("id",),
    "task": ("id", "instance_id"),
    "task_candidate": ("task_id",),
    "document": ("id", "instance_id"),
    "document_render": ("document_id", "instance_id", "claim"),
    "history_event": ("instance_id",),
    "history_value": ("instance_id",),
    "instance_search_word": ("instance_id",),
    "timer": ("instance_id", "task_id"),
    "event_subscription": ("instance_id", "task_id"),
    "incident": ("instance_id", "task_id"),
    "sla_breach": ("instance_id", "task_id"),
    "notification": ("instance_id", "task_id"),
    "data_store_entry": ("updated_by",),
}


def upgrade() -> None:
    pack_ids(op.get_bind(), IDS)


def downgrade() -> None:
    unpack_ids(op.get_bind(), IDS)
