"""Converting the values SQLite holds in place, for migrations that change a column's
stored form but not its declared type (``CompactUUID`` and the like of
:mod:`engine.persistence.db`). PostgreSQL is left as it is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from engine.persistence.db import uuid_bytes, uuid_text

Columns = Mapping[str, tuple[str, ...]]


def packed_id(value: str) -> str | bytes:
    """A UUID's 16 bytes; any other id as it is."""
    return uuid_bytes(value) or value


def convert(bind: sa.Connection, columns: Columns, python: Callable[[Any], Any],
            from_type: str) -> None:
    """Apply ``python`` to every value of SQLite type ``from_type`` in ``columns``.

    Keys and the columns referring to them change one after the other, so the
    foreign keys are checked at the end of the transaction, when both hold the
    new form (SQLite resets this at commit).
    """
    if bind.dialect.name != "sqlite":
        return
    sqlite = bind.connection.driver_connection
    assert sqlite is not None
    sqlite.create_function("sertiflow_convert", 1, python, deterministic=True)
    bind.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    for table, names in columns.items():
        for column in names:
            bind.exec_driver_sql(f"UPDATE {table} SET {column} = sertiflow_convert({column}) "
                                 f"WHERE typeof({column}) = '{from_type}'")


def pack_ids(bind: sa.Connection, columns: Columns) -> None:
    """Store the UUIDs in ``columns`` as their 16 bytes."""
    convert(bind, columns, packed_id, "text")


def unpack_ids(bind: sa.Connection, columns: Columns) -> None:
    """Store the UUIDs in ``columns`` as text again."""
    convert(bind, columns, uuid_text, "blob")
