"""Core statements run on the driver's cursor: :class:`Direct`.

A completion's writes are a handful of small statements. Through
``Connection.execute`` each costs SQLAlchemy 50 to 80 µs of Python (an execution
context, the compiled cache's lookup, parameters processed through the
compiled statement, a result object), several times what SQLite takes to run
it. A :class:`Direct` statement is compiled once per dialect, with the columns'
own bind (and result) processors looked up once, and runs on the DBAPI cursor of the
command's connection: the same SQL, the same values, the same transaction. On
PostgreSQL that is psycopg's raw cursor, the statement written once with the
server's own ``$n`` parameters (see :func:`_raw`).

What it keeps of ``Connection.execute``: the ``before_execute``,
``before_cursor_execute`` and ``after_cursor_execute`` events (when anything
listens: the store's held finish, the bench's probe, the tests that watch the
statements), and the driver's errors raised as
SQLAlchemy's (``IntegrityError``, ``OperationalError``…), a lost connection
invalidated. What it gives up: column defaults computed in Python (a row that
lacks such a column, or a statement that would fill one, is refused at
preparation and goes through SQLAlchemy), result objects (a row count, a first
value, or a SELECT's rows as tuples come back), and listeners that rewrite the
statement (``retval=True``: their answer is not used; none is registered here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from engine.runtime.waits import HandOver, patience

Processor = Callable[[Any], Any] | None
Params = Mapping[str, Any]

# PostgreSQL's SQLSTATE for a lock not granted within the connection's lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def lock_wait_handed_over(error: BaseException) -> HandOver | None:
    """The :class:`HandOver` that ``error`` (the driver's) stands for, if any: a lock
    not granted within a patient caller's time (``lock_timeout``, set by
    :class:`~engine.persistence.db.Database` for such callers on PostgreSQL)."""
    if getattr(error, "sqlstate", None) == LOCK_NOT_AVAILABLE and patience() is not None:
        return HandOver("another transaction holds a row this command must lock")
    return None


class NotDirect(Exception):
    """The statement needs SQLAlchemy's execution (a Python-side default, an expanding
    parameter): it is run through ``Connection.execute`` instead."""


class _Prepared:
    __slots__ = ("constants", "converted", "cursor", "names", "plan", "positional", "sql")

    def __init__(self, sql: str, names: Sequence[str], processors: Sequence[Processor],
                 positional: bool, constants: Mapping[str, Any],
                 results: Sequence[Processor], cursor: Any = None) -> None:
        self.sql = sql
        self.names = list(names)
        self.positional = positional
        self.constants = dict(constants)
        # Each parameter's name with its bind processor (None: passed as it is).
        self.plan = list(zip(self.names, processors, strict=True))
        # A SELECT's columns that a result processor converts, by position (the
        # others pass as the driver gives them).
        self.converted = [(n, process) for n, process in enumerate(results)
                          if process is not None]
        # The cursor class to run it on (None: the connection's own cursor()).
        self.cursor = cursor

    def arguments(self, params: Params) -> Any:
        if self.constants:
            params = {**self.constants, **params}
        values = [params[name] if process is None else process(params[name])
                  for name, process in self.plan]
        if self.positional:
            return values
        return dict(zip(self.names, values, strict=True))


def _prepare(statement: sa.ClauseElement, dialect: Dialect,
             column_keys: Sequence[str] | None) -> _Prepared:
    compiled: Any = statement.compile(dialect=dialect, column_keys=column_keys)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise NotDirect("an expanding or literal parameter")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise NotDirect("a column default computed in Python")
    # Each parameter under the name it has in the SQL (a literal's is made up).
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    names = list(compiled.positiontup) if compiled.positional else list(binds)
    processors = [binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    # Literals in the statement (``state == "ready"``) carry their values.
    constants = {name: bind.effective_value for name, bind in binds.items()
                 if not bind.required}
    results = []
    if isinstance(statement, sa.Select):
        results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                   for column in statement.selected_columns]
    if dialect.driver == "psycopg" and not compiled.positional:
        return _raw(compiled.string, binds, dialect, constants, results)
    return _Prepared(compiled.string, names, processors, compiled.positional, constants,
                     results)


# A parameter as SQLAlchemy writes it for psycopg (``%(name)s``), or an escaped ``%``.
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def _raw(sql: str, binds: Mapping[str, Any], dialect: Dialect, constants: Mapping[str, Any],
         results: Sequence[Processor]) -> _Prepared:
    """The statement with PostgreSQL's own ``$n`` parameters, for psycopg's raw cursor.

    psycopg's ordinary cursor turns ``%(name)s`` into ``$n`` on every execution; it
    caches that work only for statements of at most 50 parameters and 4 KB, so a
    command's joined writes (engine.runtime.queued_rows: often more) were parsed
    anew each time, a fifth of a millisecond per completion. Here it is done once.
    """
    import psycopg

    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    converted = _PYFORMAT.sub(number, sql)
    processors = [binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    return _Prepared(converted, names, processors, True, constants, results,
                     cursor=psycopg.RawCursor)


class Direct:
    """A Core statement (an INSERT, an UPDATE, a SELECT of plain values) run on the
    driver's cursor of a :class:`sqlalchemy.Connection`, compiled once per dialect
    (an INSERT once per set of columns given).

    Every bound parameter but a literal's is named (``bindparam``) and given at each call. A
    statement SQLAlchemy must run itself (see :class:`NotDirect`) is found out at
    its first use and then always run through ``Connection.execute``.
    """

    def __init__(self, statement: sa.Executable) -> None:
        # An INSERT never fetches what the database made (the rows' new ids): no RETURNING.
        self.statement = statement.inline() if isinstance(statement, sa.Insert) else statement
        self._by_columns = isinstance(statement, sa.Insert)
        self._prepared: dict[tuple[str, tuple[str, ...]], _Prepared | None] = {}

    def _for(self, dialect: Dialect, params: Params | Sequence[Params]) -> _Prepared | None:
        columns: tuple[str, ...] = ()
        if self._by_columns:
            rows = [params] if isinstance(params, Mapping) else params
            if not rows:
                return None
            first = rows[0]
            columns = tuple(first)
            if len(rows) > 1 and any(len(row) != len(columns) or row.keys() != first.keys()
                                     for row in rows):
                return None  # rows of several shapes: SQLAlchemy sorts them out
        key = (dialect.name, columns)
        try:
            return self._prepared[key]
        except KeyError:
            pass
        try:
            prepared: _Prepared | None = _prepare(
                self.statement, dialect,  # type: ignore[arg-type]
                list(columns) if self._by_columns else None)
        except NotDirect:
            prepared = None
        self._prepared[key] = prepared
        return prepared

    def execute(self, conn: sa.Connection, params: Params | Sequence[Params]) -> int:
        """Run the statement with ``params`` (a list of them: one executemany); return
        the row count the driver reports."""
        prepared = self._for(conn.dialect, params)
        if prepared is None:
            return int(conn.execute(self.statement, params).rowcount)
        cursor = _run(conn, self.statement, prepared, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: sa.Connection, params: Params) -> tuple[Any, ...] | None:
        """Run a SELECT; its first row, each value as its column's type reads it, or None."""
        prepared = self._for(conn.dialect, params)
        if prepared is None:
            row = conn.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        cursor = _run(conn, self.statement, prepared, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else _read(row, prepared.converted)

    def all(self, conn: sa.Connection, params: Params) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows, each value as its column's type reads it."""
        prepared = self._for(conn.dialect, params)
        if prepared is None:
            return [tuple(row) for row in conn.execute(self.statement, params)]
        cursor = _run(conn, self.statement, prepared, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        converted = prepared.converted
        return [_read(row, converted) for row in rows]

    def scalar(self, conn: sa.Connection, params: Params) -> Any:
        """Run a statement that returns one row; its first value, as the driver gives it
        (no result processing: for counts and other plain values)."""
        prepared = self._for(conn.dialect, params)
        if prepared is None:
            return conn.execute(self.statement, params).scalar()
        cursor = _run(conn, self.statement, prepared, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]


def _read(row: Sequence[Any], converted: Sequence[tuple[int, Processor]]) -> tuple[Any, ...]:
    if not converted:
        return tuple(row)
    values = list(row)
    for n, process in converted:
        value = values[n]
        if value is not None:
            values[n] = process(value)  # type: ignore[misc]
    return tuple(values)


def _run(conn: sa.Connection, clause: sa.Executable, prepared: _Prepared,
         params: Params | Sequence[Params]) -> Any:
    many = not isinstance(params, Mapping)
    dispatch = conn.dispatch
    if dispatch.before_execute:
        # As Connection.execute does, before anything is sent: a listener may write
        # what must come first (the store's held finish of a task, engine.runtime.store).
        for listener in dispatch.before_execute:
            listener(conn, clause, (), params, {})
    arguments: Any = ([prepared.arguments(p) for p in cast(Sequence[Params], params)] if many
                      else prepared.arguments(cast(Params, params)))
    # The command's connection: SQLAlchemy has begun its transaction already
    # (Session.connection), so the statement runs inside it.
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = (dbapi_connection.cursor() if prepared.cursor is None
              else prepared.cursor(dbapi_connection))
    statement = prepared.sql
    if dispatch.before_cursor_execute:
        for listener in dispatch.before_cursor_execute:
            listener(conn, cursor, statement, arguments, None, many)
    try:
        if many:
            cursor.executemany(statement, arguments)
        else:
            cursor.execute(statement, arguments)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        handed_over = lock_wait_handed_over(exc)
        if handed_over is not None:
            raise handed_over from exc
        invalidated = conn.dialect.is_disconnect(exc, dbapi_connection, cursor)
        error = sa.exc.DBAPIError.instance(statement, arguments, exc,
                                           conn.dialect.loaded_dbapi.Error,
                                           connection_invalidated=invalidated,
                                           dialect=conn.dialect)
        if invalidated:
            conn.invalidate(exc)
        raise error from exc
    if dispatch.after_cursor_execute:
        for listener in dispatch.after_cursor_execute:
            listener(conn, cursor, statement, arguments, None, many)
    return cursor
