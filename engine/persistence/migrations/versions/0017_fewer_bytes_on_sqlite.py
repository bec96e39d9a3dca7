"""Fewer bytes per instance: compact moments, task ids and digests; two rowless tables

Revision ID: 0017
Revises: 0016
Create Date: 2027-04-04 10:00:00

The tables that grow with every instance (history, tasks, instances, documents) hold
their moments as ``CompactUTCDateTime`` (``engine.persistence.db``): on SQLite,
integer microseconds since the epoch, 9 bytes where SQLAlchemy's text took 27, in
the row and again in each index holding the column (the task list's indexes hold
two). The history's and the documents' ``task_id`` (a UUID no key refers to) is
``CompactUUID``: its 16 bytes on SQLite, 17 where the text took 37; a document's
``sha256`` is ``CompactDigest``: 33 bytes where the hex took 65.

``task_candidate`` and ``instance_search_word`` become SQLite ``WITHOUT ROWID``
tables: each row was kept twice, in the table and in its primary key's index.

Here the values written before are converted, so each column holds one form: SQLite
orders every integer before any text, and never finds bytes equal to text. The
declared types stay as they were; PostgreSQL is left as it is.
"""

from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

from engine.persistence.db import (
    digest_bytes,
    digest_text,
    from_micros,
    parse_sqlite_text,
    to_micros,
    uuid_bytes,
    uuid_text,
)

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

MOMENTS = {
    "history_event": ("at",),
    "task": ("created_at", "due_at", "due_order", "follow_up_at", "completed_at"),
    "process_instance": ("started_at", "updated_at", "ended_at"),
    "document": ("uploaded_at",),
}
TASK_IDS = {"history_event": ("task_id",), "document": ("task_id",)}
DIGESTS = {"document": ("sha256",)}
# Tables whose primary key is the whole row but for a column or two: without a rowid
# the row lives in the key's b-tree instead of in a table and again in the key.
ROWLESS = ("task_candidate", "instance_search_word")
_ROWLESS = " WITHOUT ROWID"


def _text_to_micros(value: str) -> int:
    return to_micros(parse_sqlite_text(value))


def _micros_to_text(value: int) -> str:
    # SQLAlchemy's SQLite DATETIME format, as the code before this revision wrote it.
    return from_micros(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _packed_id(value: str) -> str | bytes:
    return uuid_bytes(value) or value


def _packed_digest(value: str) -> str | bytes:
    return digest_bytes(value) or value


def _convert(columns: Mapping[str, tuple[str, ...]], python: Callable[[Any], Any],
             from_type: str) -> None:
    """Apply ``python`` to every value of SQLite type ``from_type`` in ``columns``."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    sqlite = bind.connection.driver_connection
    assert sqlite is not None
    sqlite.create_function("sertiflow_convert", 1, python, deterministic=True)
    for table, names in columns.items():
        for column in names:
            op.execute(f"UPDATE {table} SET {column} = sertiflow_convert({column}) "
                       f"WHERE typeof({column}) = '{from_type}'")


def _rebuild(table: str, rowid: bool) -> None:
    """Make SQLite's ``table`` again from its own definition, with or without rowid.

    Copied aside and back rather than renamed: a rename would rewrite the trigger
    of revision 0015, which names task_candidate, to follow the old table.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    definition = bind.scalar(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
    indexes = list(bind.scalars(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
        "AND sql IS NOT NULL"), {"t": table}))
    definition = definition.removesuffix(_ROWLESS)
    op.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(definition if rowid else definition + _ROWLESS)
    op.execute(f"INSERT INTO {table} SELECT * FROM kept_{table}")
    op.execute(f"DROP TABLE kept_{table}")
    for index in indexes:
        op.execute(index)


def upgrade() -> None:
    _convert(MOMENTS, _text_to_micros, "text")
    _convert(TASK_IDS, _packed_id, "text")
    _convert(DIGESTS, _packed_digest, "text")
    for table in ROWLESS:
        _rebuild(table, rowid=False)


def downgrade() -> None:
    for table in ROWLESS:
        _rebuild(table, rowid=True)
    _convert(MOMENTS, _micros_to_text, "integer")
    _convert(TASK_IDS, uuid_text, "blob")
    _convert(DIGESTS, digest_text, "blob")
