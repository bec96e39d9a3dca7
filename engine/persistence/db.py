"""Database engine, sessions and the declarative base.

Only the edge (a request handler, a scheduler job, a CLI command) opens and
commits a transaction: it uses :meth:`Database.write` or :meth:`Database.read`
and hands the session to the services, which only ``flush()``.
"""

from __future__ import annotations

import contextlib
import re
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator, UserDefinedType

from engine.errors import ConcurrentModification, DatabaseBusy
from engine.persistence.direct import Direct, lock_wait_handed_over
from engine.persistence.wal import LOG_KEPT_BYTES, WalCheckpointer
from engine.runtime.waits import HandOver, patience
from engine.scripting.values import dumps_finite

# How long a command waits for its turn to write before giving up (SQLite's busy
# timeout is the same).
WRITER_WAIT_S = 30.0


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every database.

    SQLite keeps no offset; this type refuses naive values going in and attaches
    UTC coming out, so the rest of the code only ever sees aware datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact: no float on the way)."""
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _micros_bind(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return to_micros(value)  # an aware difference: any offset is taken into account


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def parse_sqlite_text(value: str) -> datetime:
    """A moment SQLite holds as text (SQLAlchemy's format, or ISO with an offset), in UTC."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _SQLiteMicros(UserDefinedType[Any]):
    """SQLite's side of :class:`CompactUTCDateTime`: declared ``DATETIME`` as before (so
    the schema and its comparison with the models do not change), values passed as
    they are: integers in, integers or old text out."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "DATETIME"


class CompactUTCDateTime(UTCDateTime):
    """A :class:`UTCDateTime` that SQLite stores as integer microseconds since the epoch.

    SQLite's text form (``2027-03-01 02:00:00.000000``) takes 27 bytes a value and
    again in every index holding the column; the integer takes 9. It sorts and
    compares the same, as long as a column holds one form only: migration 0017
    converted the text rows, and text that is read anyway (a row written by older
    code) still parses. PostgreSQL keeps its ``timestamptz``.
    """

    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return _SQLiteMicros()
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        value = super().process_bind_param(value, dialect)
        if value is None or dialect.name != "sqlite":
            return value
        return to_micros(value.replace(tzinfo=UTC))

    def bind_processor(self, dialect: Any) -> Any:
        # On SQLite the same value as process_bind_param's without TypeDecorator's
        # layers (2.8 -> 0.6 µs a value; several per row a command writes).
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _micros_bind

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if dialect.name != "sqlite" or value is None:
            return super().process_result_value(value, dialect)
        if isinstance(value, str):
            return parse_sqlite_text(value)
        return from_micros(value)


# A UUID as str(uuid.UUID) writes it: lower-case hex, hyphens in their places.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuid_bytes(text: str) -> bytes | None:
    """The 16 bytes of ``text`` if it is a UUID in its canonical form (lower case, with
    hyphens), which they give back exactly; None for any other id."""
    # Matched, not parsed into a uuid.UUID and written back: 1.8 -> 0.5 µs an id.
    if len(text) != 36 or _CANONICAL_UUID.fullmatch(text) is None:
        return None
    return bytes.fromhex(text.replace("-", ""))


def uuid_text(value: bytes) -> str:
    # Spelt out: four times faster than str(uuid.UUID(bytes=value)), once per history row read.
    h = value.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def digest_bytes(text: str) -> bytes | None:
    """The 32 bytes of a SHA-256 digest written in lower-case hex; None for other text."""
    if len(text) != 64:
        return None
    try:
        packed = bytes.fromhex(text)
    except ValueError:
        return None
    return packed if packed.hex() == text else None


def digest_text(value: bytes) -> str:
    return value.hex()


class _PackedText(TypeDecorator[str]):
    """Text that SQLite stores as the bytes it spells, when it spells them the one way
    they give back; any other value is kept as text. Reads give text.

    A key and every column referring to it (or compared with it) take the same type:
    SQLite never finds bytes equal to text. So does every statement reading or
    comparing such a column, which SQLAlchemy's typed columns and bound parameters
    see to; raw SQL gets the bytes. PostgreSQL keeps its varchar.
    """

    impl = sa.String(36)
    cache_ok = True

    @staticmethod
    def pack(text: str) -> bytes | None:
        raise NotImplementedError

    @staticmethod
    def unpack(value: bytes) -> str:
        raise NotImplementedError

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        packed = self.pack(value)
        return value if packed is None else packed

    def bind_processor(self, dialect: Any) -> Any:
        # process_bind_param's answer on SQLite without TypeDecorator's layers around
        # it: every id a statement sends passes here.
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        pack = self.pack

        def process(value: str | None) -> Any:
            if value is None:
                return None
            packed = pack(value)
            return value if packed is None else packed

        return process

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return self.unpack(value) if isinstance(value, bytes) else value


class CompactUUID(_PackedText):
    """A text id that SQLite stores as a UUID's 16 bytes when it is one (17 bytes a
    value where the text took 37); other ids (a test's ``t1``) stay text.

    Sorts as the text does: canonical UUIDs are lower-case hex with their hyphens in
    fixed places, so bytes and text order alike."""

    impl = sa.String(36)
    cache_ok = True
    pack = staticmethod(uuid_bytes)
    unpack = staticmethod(uuid_text)


class CompactDigest(_PackedText):
    """A SHA-256 hex digest that SQLite stores as its 32 bytes (33 where the text took 65)."""

    impl = sa.String(64)
    cache_ok = True
    pack = staticmethod(digest_bytes)
    unpack = staticmethod(digest_text)


Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
Str36 = Annotated[str, mapped_column(sa.String(36))]
Str255 = Annotated[str, mapped_column(sa.String(255))]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON()}


def create_db_engine(url: str, *, sqlite_synchronous: str = "NORMAL",
                     busy_timeout_s: float = WRITER_WAIT_S) -> Engine:
    """Create the SQLAlchemy engine for ``url`` with sertiflow's connection settings.

    SQLite runs in WAL mode (readers do not block the writer) with foreign keys
    on. Write transactions start with ``BEGIN IMMEDIATE`` so that two commands
    never both read an instance and then fail to upgrade their lock: the second
    waits for the first and then sees its result.
    """
    # JSON columns hold non-finite numbers as null, as the API shows them: PostgreSQL
    # refuses a bare NaN, and SQLite stored one that no JSON reader accepts.
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  json_serializer=_json_text)
        _configure_sqlite(engine, sqlite_synchronous, busy_timeout_s)
    else:
        engine = sa.create_engine(url, pool_size=10, max_overflow=20,
                                  json_serializer=_json_text)
        _ping_when_in_doubt(engine)
        _lock_waits_within_patience(engine)
    return engine


# A pooled connection idle longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 10.0
# When the connection went back to the pool (in its record's info).
_IDLE_SINCE = "sertiflow_idle_since"


def _ping_when_in_doubt(engine: Engine) -> None:
    """Check a pooled connection on checkout only when it may have died while idle.

    SQLAlchemy's ``pool_pre_ping`` spends a round trip on every checkout: one per
    request, a fifth of a task completion's. Here a connection is pinged only if it
    has been idle for :data:`PING_AFTER_IDLE_S`, or if its socket has something to
    read: an idle connection is sent nothing, unless the server is closing it (a
    restart, ``pg_terminate_backend``, an idle timeout). One that fails the ping is
    replaced before anyone uses it, as with ``pool_pre_ping``.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:
            return  # new: just connected
        if (time.monotonic() - idle_since < PING_AFTER_IDLE_S
                and not _has_input(dbapi_connection)):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc
        if not alive:
            raise sa.exc.DisconnectionError("a pooled connection failed its ping")


# The lock_timeout (ms) a pooled PostgreSQL connection has, as this process set it (0:
# the server's own setting), and, while the transaction that set it runs, the value
# before it (None: not known). Both live in the connection record's info.
_LOCK_TIMEOUT = "sertiflow_lock_timeout"
_LOCK_TIMEOUT_BEFORE = "sertiflow_lock_timeout_before"


def _lock_waits_within_patience(engine: Engine) -> None:
    """On PostgreSQL, a command waits for another transaction's row lock no longer
    than its caller's patience (:mod:`engine.runtime.waits`), then hands over.

    A command in the server's event loop may not block it for long, and a row lock
    can be held for as long as the holder's script runs. So a write transaction that
    begins with a patience first sets the connection's ``lock_timeout`` to it, and
    one without resets it to the server's setting; either only when the connection
    has another value, which with one loop thread per process is rare: the loop's
    commands find their own setting in place. A lock not granted in time raises
    :class:`~engine.runtime.waits.HandOver` (the command rolls back and runs again
    where it may wait). A ``SET`` is undone by its transaction's rollback, and so
    is the record of it.
    """
    settings: dict[int, Direct] = {0: Direct(sa.text("RESET lock_timeout"))}

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LOCK_TIMEOUT] = 0

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # reads: a SELECT takes no row lock
        limit = patience()
        wanted = 0 if limit is None else max(1, round(limit * 1000))
        info = connection.info
        before = info.get(_LOCK_TIMEOUT)
        if before == wanted:
            return
        setting = settings.get(wanted)
        if setting is None:
            setting = settings[wanted] = Direct(sa.text(f"SET lock_timeout = {wanted}"))
        setting.execute(connection, {})
        info[_LOCK_TIMEOUT] = wanted
        info[_LOCK_TIMEOUT_BEFORE] = before

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        connection.info.pop(_LOCK_TIMEOUT_BEFORE, None)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        _undo_lock_timeout(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:  # ended by the pool's reset, not by a commit or rollback
            _undo_lock_timeout(record.info)

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> BaseException | None:
        if context.connection is not None and not context.is_disconnect:
            # Not known any more: a COMMIT that failed took back its transaction's SET
            # after the "commit" event had kept it. The next transaction sets it again.
            context.connection.info.pop(_LOCK_TIMEOUT, None)
        return lock_wait_handed_over(context.original_exception)


def _undo_lock_timeout(info: dict[str, Any]) -> None:
    if _LOCK_TIMEOUT_BEFORE in info:
        before = info.pop(_LOCK_TIMEOUT_BEFORE)
        if before is None:
            info.pop(_LOCK_TIMEOUT, None)
        else:
            info[_LOCK_TIMEOUT] = before


def _has_input(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket is readable (or closed): the server spoke."""
    try:
        fd = dbapi_connection.fileno()
    except Exception:
        return True  # closed, or no socket: let the ping decide
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _json_text(value: Any) -> str:
    """A JSON column's text, without the blanks after ``,`` and ``:`` that json.dumps
    writes by default: every history event and task carries a few dozen of them."""
    return dumps_finite(value, separators=(",", ":"))


# The execution option naming how a SQLite transaction begins (see Database.write).
_BEGIN = "sertiflow_begin"


def _configure_sqlite(engine: Engine, synchronous: str, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    # On the driver's cursor: exec_driver_sql spent about 40 µs of SQLAlchemy's
    # Python on each, one per request.
    begins = {kind: Direct(sa.text(f"BEGIN {kind}")) for kind in ("DEFERRED", "IMMEDIATE")}

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # maintenance statements such as VACUUM run outside transactions
        begins[options.get(_BEGIN, "DEFERRED")].execute(connection, {})


def holds_the_writer(session: Session) -> bool:
    """Whether ``session``'s transaction began by taking SQLite's one writer (``BEGIN
    IMMEDIATE``, :meth:`Database.write`): then no other transaction can write while it runs."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite" and bind.get_execution_options().get(_BEGIN) == "IMMEDIATE"


def _refuse_to_write(session: Session, *_: Any) -> None:
    raise RuntimeError("a read transaction may not write: open a write transaction")


class Database:
    """The engine plus the two kinds of transaction the edge may open."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL",
                 writer_wait_s: float = WRITER_WAIT_S) -> None:
        self.url = url
        # How long a command waits for its turn to write before it gives up.
        self.writer_wait_s = writer_wait_s
        self.engine = create_db_engine(url, sqlite_synchronous=sqlite_synchronous,
                                       busy_timeout_s=writer_wait_s)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(**{_BEGIN: "IMMEDIATE"})
        # No autoflush: a command flushes once, at its end, instead of before each query.
        self._write = sessionmaker(bind=writer, expire_on_commit=False, autoflush=False)
        # PostgreSQL reads each statement at its own snapshot under READ COMMITTED, so
        # a transaction around a read gives it nothing but two round trips (BEGIN and
        # the ROLLBACK that ends it): there a read runs its statements in autocommit.
        # SQLite keeps its transaction: there it is the read's one snapshot.
        if self.is_sqlite:
            self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        else:
            # Nothing there may reach the database by the ORM's flush: a changed
            # object is never written, and an explicit flush is refused.
            self._read = sessionmaker(
                bind=self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False, autoflush=False)
            event.listen(self._read, "before_flush", _refuse_to_write)
        # SQLite has one writer at a time. Threads of this process queue for it here
        # and are woken the moment it is free; left to SQLite's busy handler they
        # would poll with sleeps of up to 100 ms. Other processes still meet the
        # busy timeout.
        self._writer_turn = threading.Lock() if self.is_sqlite else None
        # SQLite's log is copied into the database file by a thread of its own, not
        # inside a commit (engine.persistence.wal).
        self.checkpointer = (self._checkpoint_in_background(sqlite_synchronous)
                             if self.is_sqlite else None)
        # On SQLite each thread keeps its two connections (one it reads on, one it
        # writes on) from one transaction to the next: taken from the pool and given
        # back around every request, a connection cost SQLAlchemy about 40 µs of
        # Python (a Connection built, the pool's checkout and check-in with its
        # reset). A SQLite connection is a file handle, and the node has few threads.
        self._held = (_HeldConnections(self.engine, writer)
                      if self.is_sqlite and isinstance(self.engine.pool, sa.pool.QueuePool)
                      else None)

    def _checkpoint_in_background(self, synchronous: str) -> WalCheckpointer:
        checkpointer = WalCheckpointer(self.engine, self._writer_turn, synchronous=synchronous,
                                       busy_timeout_s=self.writer_wait_s)

        @event.listens_for(self.engine, "connect")
        def _no_checkpoint_in_commits(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
            dbapi_connection.execute(f"PRAGMA journal_size_limit={LOG_KEPT_BYTES}")

        event.listen(self.engine, "commit", checkpointer.committed)
        return checkpointer

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Open one command's transaction; commit on success, roll back on error."""
        turn = self._writer_turn
        if turn is not None:
            limit = patience()
            wait = self.writer_wait_s if limit is None else limit
            if not turn.acquire(timeout=wait):
                if limit is not None:
                    raise HandOver("another command holds the writer")
                raise DatabaseBusy(f"no turn to write within {self.writer_wait_s:g} s")
        held, conn = self._held, None
        try:
            if held is not None:
                conn = held.take("write")
            session = self._write() if conn is None else self._write(bind=conn)
            try:
                yield session
                session.commit()
            except sa.orm.exc.StaleDataError as exc:
                session.rollback()
                raise ConcurrentModification(
                    "the instance was changed by another command; reload and try again"
                ) from exc
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        finally:
            try:
                if conn is not None:
                    held.give_back("write", conn)  # type: ignore[union-attr]
            finally:
                if turn is not None:
                    turn.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a read-only unit of work; closing it ends it and detaches the objects.

        Nothing in it may write: SQLite rolls a read's transaction back, but on
        PostgreSQL each statement of a read commits by itself (autocommit).
        """
        held = self._held
        conn = None if held is None else held.take("read")
        try:
            session = self._read() if conn is None else self._read(bind=conn)
            try:
                yield session
            finally:
                session.close()
        finally:
            if conn is not None:
                held.give_back("read", conn)  # type: ignore[union-attr]

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self._held is not None:
            self._held.close_all()
        self.engine.dispose()


class _HeldConnections:
    """Each thread's SQLite connections, one per kind of transaction, kept between
    transactions (see :class:`Database`).

    They come from the pool and stay checked out, so at most the pool's ``size()`` of
    them are held at once, whatever the number of threads (request threads, the
    scheduler's workers, the document renderer): past that a thread's transactions
    check a connection out and in as before, and the pool's overflow stays free for
    them.

    A connection is lent to one session at a time: a transaction opened inside
    another of its kind in the same thread takes one from the pool, as every
    transaction did before. One that comes back still in a transaction (its session
    could not end it) or invalidated goes back to the pool, closed. The connections
    of threads that have ended are closed when the next thread first takes one, and
    all of them by :meth:`close_all` (the engine's dispose).
    """

    def __init__(self, reader: Engine, writer: Engine) -> None:
        self._sources = {"read": reader, "write": writer}
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every held connection by its thread: closed when that thread has ended.
        self._by_thread: dict[threading.Thread, list[sa.Connection]] = {}
        self._held = 0  # connections in _by_thread
        self._limit = reader.pool.size()  # type: ignore[attr-defined]

    def take(self, kind: str) -> sa.Connection | None:
        local = self._local
        lent = local.__dict__.setdefault("lent", set())
        if kind in lent:
            return None  # nested in another transaction of this kind: the pool's
        conn: sa.Connection | None = local.__dict__.get(kind)
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                self._forget(conn)
                _close_quietly(conn)
            if not self._reserve():
                return None  # as many held as the pool's size: this one is the pool's
            try:
                conn = self._sources[kind].connect()
            except BaseException:
                self._release(1)
                raise
            local.__dict__[kind] = conn
            self._register(conn)
        lent.add(kind)
        return conn

    def give_back(self, kind: str, conn: sa.Connection) -> None:
        local = self._local
        local.lent.discard(kind)
        if conn.in_transaction() or conn.invalidated:
            local.__dict__.pop(kind, None)
            self._forget(conn)
            conn.close()

    def _reserve(self) -> bool:
        """Count one more held connection if the limit allows; first close those of
        threads that have ended."""
        with self._lock:
            ended = [thread for thread in self._by_thread if not thread.is_alive()]
            left = [c for thread in ended for c in self._by_thread.pop(thread)]
            self._held -= len(left)
            reserved = self._held < self._limit
            if reserved:
                self._held += 1
        for old in left:
            _close_quietly(old)
        return reserved

    def _release(self, count: int) -> None:
        with self._lock:
            self._held -= count

    def _register(self, conn: sa.Connection) -> None:
        # Counted already, by _reserve.
        with self._lock:
            self._by_thread.setdefault(threading.current_thread(), []).append(conn)

    def _forget(self, conn: sa.Connection) -> None:
        with self._lock:
            mine = self._by_thread.get(threading.current_thread(), [])
            if conn in mine:
                mine.remove(conn)
                self._held -= 1

    def close_all(self) -> None:
        with self._lock:
            conns = [c for thread_conns in self._by_thread.values() for c in thread_conns]
            self._by_thread.clear()
            self._held = 0
        for conn in conns:
            _close_quietly(conn)
        self._local = threading.local()


def _close_quietly(conn: sa.Connection) -> None:
    # A connection past use: whatever its close says, nothing is left to keep of it.
    with contextlib.suppress(Exception):
        conn.close()
