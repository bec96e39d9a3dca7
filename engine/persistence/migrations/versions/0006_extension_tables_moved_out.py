"""tables of one organisation's domain, moved to its extension's own branch

Revision 0006 used to create tables that belong to an extension, not to the
engine. They are now created by that extension's own migrations (a branch of
its own, rooted on 0005); this revision is kept, empty, so that databases
stamped with 0006 or later keep a known history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 17:05:59.732180
"""

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
