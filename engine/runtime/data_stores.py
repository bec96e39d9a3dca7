"""BPMN data stores, kept in the database (``data_store_entry``).

A data store outlives the instances that use it (BPMN 2.0.2 §10.4.4): one value
per store name, shared by every instance of every process. The tasks of an
instance read and write it through data associations (``engine.bpmn.data``);
this is what the runtime lends the workflow's script engine for that, within
the command's transaction.

A read on PostgreSQL locks the store's row until the command commits, so a
command that reads, changes and writes a store (a counter, a register) cannot
lose another's write; a store never written gets its row (without a value) at
its first read, so that even the first writers take turns. On SQLite every
write transaction holds the database's writer lock already (``engine.persistence.db``). A
rolled-back command leaves the store as it was, with everything else it did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.bpmn.serializer import decode_value, encode_value
from engine.models import DataStoreEntry
from engine.time.clock import Clock


class DataStores:
    """Read and write data stores for the tasks of one instance."""

    def __init__(self, session: Session, clock: Clock, instance_id: str,
                 on_write: Callable[[str, Any, str | None], None] | None = None) -> None:
        self.session = session
        self.clock = clock
        self.instance_id = instance_id
        self._on_write = on_write

    def read(self, name: str) -> tuple[bool, Any]:
        query = sa.select(DataStoreEntry.value).where(DataStoreEntry.name == name)
        if self._dialect() == "postgresql":
            self.session.execute(self._insert().values(
                name=name, value=None, updated_at=self.clock.now())
                .on_conflict_do_nothing(index_elements=["name"]))
            query = query.with_for_update()
        text = self.session.scalar(query)
        if text is None:
            return False, None
        return True, decode_value(text)

    def _dialect(self) -> str:
        return str(self.session.get_bind().dialect.name)

    def _insert(self) -> Any:
        return (postgresql.insert if self._dialect() == "postgresql" else sqlite.insert)(
            DataStoreEntry)

    def write(self, name: str, value: Any, element_id: str | None) -> None:
        values = {"value": encode_value(value), "updated_at": self.clock.now(),
                  "updated_by": self.instance_id, "element_id": element_id}
        # One statement, so that two commands writing a new store at once both succeed.
        self.session.execute(self._insert().values(name=name, **values)
                             .on_conflict_do_update(index_elements=["name"], set_=values))
        if self._on_write is not None:
            self._on_write(name, value, element_id)


def read_data_store(session: Session, name: str) -> tuple[bool, Any]:
    """The value of data store ``name`` (for tests and administration)."""
    text = session.scalar(sa.select(DataStoreEntry.value).where(DataStoreEntry.name == name))
    return (False, None) if text is None else (True, decode_value(text))
