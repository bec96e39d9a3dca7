"""Search words of instances; completed tasks by who completed them

Revision ID: 0010
Revises: 0009
Create Date: 2027-03-01 10:00:00

``instance_search_word`` holds the lower-case words an instance is found by (its
business key, company and the variables extensions name), one per row, indexed for
``LIKE 'typed%'`` (PostgreSQL needs the pattern operator class for that, SQLite a
NOCASE column). The instances already there get the words of their business key
and company; their variables' words come with their next step. ``task`` gets an
index for "completed by me", newest first.
"""

import sqlalchemy as sa
from alembic import op

from engine.runtime.search_words import words_of

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WORD = sa.String(64).with_variant(sa.String(64, collation="NOCASE"), "sqlite")


def upgrade() -> None:
    words = op.create_table(
        "instance_search_word",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("word", WORD, nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name=op.f("fk_instance_search_word_instance_id_process_instance"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id", "word", name=op.f("pk_instance_search_word")),
    )
    op.create_index("ix_instance_search_word_word", "instance_search_word", ["word"],
                    postgresql_ops={"word": "varchar_pattern_ops"})
    with op.batch_alter_table("task") as batch_op:
        batch_op.create_index("ix_task_completed_by", ["completed_by", "completed_at"])
    connection = op.get_bind()
    instances = sa.table("process_instance", sa.column("id"), sa.column("business_key"),
                         sa.column("company"))
    rows = [{"instance_id": row.id, "word": word}
            for row in connection.execute(sa.select(instances))
            for word in sorted(words_of(row.business_key, row.company, {}, ()))]
    if rows:
        op.bulk_insert(words, rows)


def downgrade() -> None:
    with op.batch_alter_table("task") as batch_op:
        batch_op.drop_index("ix_task_completed_by")
    op.drop_index("ix_instance_search_word_word", table_name="instance_search_word")
    op.drop_table("instance_search_word")
