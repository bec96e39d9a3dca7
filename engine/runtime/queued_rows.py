"""The rows a command only adds, queued until its instance is saved: :class:`QueuedRows`.

New tasks and their candidates, notifications and history rows are written by
no one else and read by nothing in the command that adds them, so they need not
each cost a round trip as they arise. When the instance is saved they go in one
executemany per table (SQLite), or, on PostgreSQL, as data-modifying parts of
the WITH clause of the instance's own update: one statement for all of a
completion's writes but the task's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from engine.persistence.db import Base
from engine.persistence.direct import Direct

# Tables are written in this order (a candidate refers to its task); others between.
_ORDER = {"task": 0, "task_candidate": 1, "history_event": 3}
_INSERTS: dict[str, Direct] = {}
# Past this many values the rows go in their own statements (PostgreSQL takes at
# most 65,535 parameters in one).
_MAX_JOINED_VALUES = 5000
# The instance's update with the inserts joined to it, by shape; built once each.
_JOINED: dict[tuple[Any, ...], Direct] = {}
_JOINED_KEPT = 256

Rows = list[dict[str, Any]]


class QueuedRows:
    def __init__(self) -> None:
        self._rows: dict[str, Rows] = {}

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self._rows.setdefault(table.name, []).append(row)

    def take(self) -> Taken:
        """The rows queued so far, in writing order; the queue starts empty again."""
        rows, self._rows = self._rows, {}
        tables = Base.metadata.tables
        return Taken([(tables[name], rows[name])
                      for name in sorted(rows, key=lambda name: _ORDER.get(name, 2))])


class Taken:
    def __init__(self, tables: list[tuple[sa.Table, Rows]]) -> None:
        self.tables = tables

    def write(self, conn: sa.Connection) -> None:
        """Insert each table's rows with one executemany."""
        for table, rows in self.tables:
            insert = _INSERTS.get(table.name)
            if insert is None:
                insert = _INSERTS[table.name] = Direct(table.insert())
            insert.execute(conn, rows)

    def joinable(self) -> bool:
        """Whether there are rows and they fit one statement: not too many values,
        each table's rows with the same columns."""
        if not self.tables:
            return False
        if sum(len(rows) * len(rows[0]) for _, rows in self.tables) > _MAX_JOINED_VALUES:
            return False
        return all(row.keys() == rows[0].keys() for _, rows in self.tables for row in rows)

    def drop(self, table: sa.Table, unwanted: Callable[[dict[str, Any]], bool]) -> None:
        """Leave out the rows of ``table`` that are ``unwanted``."""
        for n, (queued, rows) in enumerate(self.tables):
            if queued.name == table.name:
                kept = [row for row in rows if not unwanted(row)]
                self.tables[n:n + 1] = [(queued, kept)] if kept else []
                return

    def joined_to(self, update: Joinable, values: dict[str, Any],
                  also: Sequence[Joinable] = ()) -> Direct:
        """``update`` with an insert of each table's rows in its WITH clause.

        Adds the rows' values to ``values`` under names of their own. PostgreSQL
        runs every data-modifying WITH part once, whatever the main statement
        reads, and checks foreign keys at the statement's end, when the tasks are in.
        Each of ``also`` brings WITH parts of its own (its ``sql``) and a condition
        the update's row must meet besides (its ``condition``, if any), its values
        already in ``values``. The statement is written as text, once per shape
        (tables, row counts, columns): SQLAlchemy compiles a multi-row insert anew
        on every execution.
        """
        shape = (update.sql, *(more.sql for more in also),
                 *((t.name, len(rows), *rows[0]) for t, rows in self.tables))
        statement = _JOINED.get(shape)
        if statement is None:
            parts, binds = [], list(update.binds)
            for n, (table, rows) in enumerate(self.tables):
                names = list(rows[0])
                tuples = []
                for i in range(len(rows)):
                    tuples.append("(" + ", ".join(f":q{n}_{i}_{name}" for name in names) + ")")
                    binds += [sa.bindparam(f"q{n}_{i}_{name}", type_=table.c[name].type)
                              for name in names]
                parts.append(f"queued_{n} AS (INSERT INTO {table.name} ({', '.join(names)}) "
                             f"VALUES {', '.join(tuples)})")
            main = update.sql
            for more in also:
                parts.append(more.sql)
                binds += more.binds
                if more.condition:
                    main += f" AND {more.condition}"
            statement = Direct(sa.text(f"WITH {', '.join(parts)} {main}").bindparams(*binds))
            if len(_JOINED) >= _JOINED_KEPT:
                _JOINED.clear()
            _JOINED[shape] = statement
        for n, (_, rows) in enumerate(self.tables):
            for i, row in enumerate(rows):
                for name, value in row.items():
                    values[f"q{n}_{i}_{name}"] = value
        return statement


class Joinable:
    """SQL written as text to join with queued inserts, its parameters typed by the
    columns they are bound to: an UPDATE, or WITH parts with a ``condition`` on
    the UPDATE's row (:meth:`Taken.joined_to`)."""

    def __init__(self, table: sa.Table, sql: str, columns: dict[str, str],
                 condition: str = "") -> None:
        self.sql = sql
        self.condition = condition
        self.binds = [sa.bindparam(name, type_=table.c[column].type)
                      for name, column in columns.items()]
