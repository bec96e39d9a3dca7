"""Fewer bytes per instance: SQLite keeps the per-instance moments as integers

Revision ID: 0017
Revises: 0016
Create Date: 2027-04-04 10:00:00

The tables that grow with every instance (history, tasks, instances, documents) hold
their moments as ``CompactUTCDateTime`` (``engine.persistence.db``): on SQLite,
integer microseconds since the epoch, 9 bytes where SQLAlchemy's text took 27, in
the row and again in each index holding the column (the task list's indexes hold
two). Here the text written before is converted, so each column holds one form
and sorts as before (SQLite orders every integer before any text). The declared
type stays ``DATETIME``; PostgreSQL's ``timestamptz`` is left as it is.
"""

from datetime import UTC

from alembic import op

from engine.persistence.db import from_micros, parse_sqlite_text, to_micros

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = {
    "history_event": ("at",),
    "task": ("created_at", "due_at", "due_order", "follow_up_at", "completed_at"),
    "process_instance": ("started_at", "updated_at", "ended_at"),
    "document": ("uploaded_at",),
}


def _text_to_micros(value: str) -> int:
    return to_micros(parse_sqlite_text(value))


def _micros_to_text(value: int) -> str:
    # SQLAlchemy's SQLite DATETIME format, as the code before this revision wrote it.
    return from_micros(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _convert(function: str, python: object, from_type: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    sqlite = bind.connection.driver_connection
    assert sqlite is not None
    sqlite.create_function(function, 1, python, deterministic=True)
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(f"UPDATE {table} SET {column} = {function}({column}) "
                       f"WHERE typeof({column}) = '{from_type}'")


def upgrade() -> None:
    _convert("sertiflow_micros", _text_to_micros, "text")


def downgrade() -> None:
    _convert("sertiflow_text", _micros_to_text, "integer")
