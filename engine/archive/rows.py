"""Which rows belong to an instance, and how a row becomes JSON and back.

The tables are found through their foreign keys: every table with a key to
``process_instance`` belongs to it, and every table with a key to one of those
(``task_candidate`` to ``task``, ``document_render`` to ``document``) too. So a table
that an extension adds on the engine's ``Base`` with a key to an instance is archived
with it, without this module naming it. Tables that only copy an instance's id
without a key (an organisation's own records, kept by its extension) are
its records, not the instance's, and stay where they are.

A row is written as a JSON object of column name to value, encoded by the column's
type: times as ISO text with their offset, bytes as base64, JSON columns as they are.
Decoding uses the same types, so a row read back compares equal to the row written.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa

import engine.models  # noqa: F401  (every engine table on Base.metadata)
from engine.persistence.db import Base

ROOT = "process_instance"


@dataclass(frozen=True)
class Link:
    """A table whose rows belong to an instance, and the key that says so.

    ``column`` in ``table`` refers to ``target`` in the parent link's table (for the
    first level, ``process_instance.id``).
    """

    table: sa.Table
    column: str | None = None
    target: str | None = None
    parent: Link | None = None

    @property
    def name(self) -> str:
        return self.table.name

    def keys(self, ids: Sequence[str]) -> sa.ColumnElement[bool]:
        """The condition that picks this table's rows of the instances ``ids``."""
        if self.parent is None or self.column is None or self.target is None:
            return self.table.c.id.in_(ids)
        if self.parent.parent is None:
            return self.table.c[self.column].in_(ids)
        above = sa.select(self.parent.table.c[self.target]).where(self.parent.keys(ids))
        return self.table.c[self.column].in_(above)

    def select(self, ids: Sequence[str]) -> sa.Select[Any]:
        order = list(self.table.primary_key.columns) or list(self.table.columns)[:1]
        return sa.select(self.table).where(self.keys(ids)).order_by(*order)


def instance_links(metadata: sa.MetaData | None = None) -> list[Link]:
    """The instance table first, then the tables that belong to it, parents first."""
    tables = (metadata or Base.metadata).tables
    root = Link(tables[ROOT])
    links = [root]
    seen = {ROOT}
    level = [root]
    while level:
        below: list[Link] = []
        for table in sorted(tables.values(), key=lambda t: t.name):
            if table.name in seen:
                continue
            for parent in level:
                key = next((fk for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name)
                            if fk.column.table is parent.table), None)
                if key is not None:
                    link = Link(table, key.parent.name, key.column.name, parent)
                    below.append(link)
                    seen.add(table.name)
                    break
        links.extend(below)
        level = below
    return links


# How a column's values are written: times as ISO text, bytes as base64, the rest as is.
_TIME, _BYTES, _PLAIN = "time", "bytes", "plain"


@cache
def _codecs(table: sa.Table) -> tuple[tuple[str, str], ...]:
    """Each column's name and kind, worked out once per table (rows are many)."""
    return tuple((column.name, _kind(column.type)) for column in table.columns)


def encode(table: sa.Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The row as JSON values, by its columns' types."""
    return {name: _to_json(kind, row[name]) for name, kind in _codecs(table) if name in row}


def _to_json(kind: str, value: Any) -> Any:
    if value is None or kind == _PLAIN:
        return value
    if kind == _TIME:
        return value.isoformat()
    return base64.b64encode(bytes(value)).decode("ascii")


def encode_values(table: sa.Table, values: Sequence[Any]) -> dict[str, Any]:
    """A row selected with ``select(table)`` (its columns in the table's order) as JSON."""
    return {name: _to_json(kind, value)
            for (name, kind), value in zip(_codecs(table), values, strict=True)}


def decode(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as the table takes it; columns the table no longer has are left out."""
    out: dict[str, Any] = {}
    for name, kind in _codecs(table):
        if name not in row:
            continue
        value = row[name]
        if value is None or kind == _PLAIN:
            out[name] = value
        elif kind == _TIME:
            out[name] = datetime.fromisoformat(value)
        else:
            out[name] = base64.b64decode(value)
    return out


def _kind(kind: sa.types.TypeEngine[Any]) -> str:
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance  # UTCDateTime: a DateTime underneath
    if isinstance(kind, sa.LargeBinary):
        return _BYTES
    if isinstance(kind, sa.DateTime):
        return _TIME
    return _PLAIN
