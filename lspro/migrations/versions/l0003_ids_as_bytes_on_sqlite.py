"""instance, certificate and invoice ids as 16 bytes on SQLite

The engine's revision 0018 stores instance ids as ``CompactUUID``; the LSPro's
tables that copy one take it too, and so do the certificates' and invoices' own
UUID keys and the columns naming a certificate. Rows written before are converted;
PostgreSQL is left as it is.

Revision ID: lspro_0003
Revises: lspro_0002
Create Date: 2027-04-05 10:00:00
"""

from alembic import op

from engine.persistence.sqlite_values import pack_ids, unpack_ids

revision = 'lspro_0003'
down_revision = 'lspro_0002'
branch_labels = None
depends_on = None

IDS = {
    "certificate": ("id", "instance_id", "superseded_by", "supersedes"),
    "certificate_event": ("certificate_id", "instance_id"),
    "invoice": ("id", "instance_id"),
    "panel_member": ("instance_id",),
}


def upgrade() -> None:
    pack_ids(op.get_bind(), IDS)


def downgrade() -> None:
    unpack_ids(op.get_bind(), IDS)
