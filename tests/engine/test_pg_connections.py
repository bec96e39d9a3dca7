"""PostgreSQL connections: what a checkout and a read cost in round trips, and that a
connection the server ended is never handed out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from engine.persistence import db as db_module
from engine.persistence.db import Database
from engine.runtime.waits import impatient
from tests.statements import sent_statements

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    built = Database(postgres_url)
    with built.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY, body text)"))
    yield built
    built.dispose()


@pytest.fixture
def pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each ping the pool sends, as it is sent."""
    sent: list[int] = []
    real = database.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return bool(real(dbapi_connection))

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return sent


def _backend(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(sa.text("SELECT pg_backend_pid()")))


def test_a_connection_used_a_moment_ago_is_not_pinged(database: Database,
                                                      pings: list[int]) -> None:
    backends = {_backend(database) for _ in range(5)}
    with database.write() as session:
        session.execute(sa.text("INSERT INTO note VALUES (1, 'a')"))
    assert len(backends) == 1  # the same pooled connection each time
    assert pings == []


def test_a_connection_idle_past_the_limit_is_pinged(database: Database, pings: list[int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend(database)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    assert _backend(database) == first
    assert pings == [1]


def test_a_connection_the_server_ended_is_replaced_before_it_is_used(
        database: Database, pings: list[int], postgres_url: str) -> None:
    with database.read() as session:
        ended = int(session.scalar(sa.text("SELECT pg_backend_pid()")))
        pooled = session.connection().connection.dbapi_connection
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": ended})
    finally:
        admin.dispose()
    deadline = time.monotonic() + 10
    while not db_module._has_input(pooled):  # the server's goodbye reaches the socket
        assert time.monotonic() < deadline, "the ended connection never became readable"
        time.sleep(0.01)
    # No idle time has passed: what the socket holds alone makes the pool check it.
    assert _backend(database) != ended
    assert pings == [1]


def _status(session: sa.orm.Session) -> psycopg.pq.TransactionStatus:
    dbapi_connection = session.connection().connection.dbapi_connection
    assert isinstance(dbapi_connection, psycopg.Connection)
    return dbapi_connection.info.transaction_status


def test_a_read_opens_no_transaction_and_a_write_still_does(database: Database) -> None:
    with database.read() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM note")) == 0
        # Autocommit: no BEGIN before the statement, no ROLLBACK to end it.
        assert _status(session) == psycopg.pq.TransactionStatus.IDLE
    # The connection the read used goes back to the pool transactional again.
    with pytest.raises(RuntimeError), database.write() as session:
        session.execute(sa.text("INSERT INTO note VALUES (1, 'kept?')"))
        assert _status(session) == psycopg.pq.TransactionStatus.INTRANS
        raise RuntimeError("the command fails")
    with database.read() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM note")) == 0


def test_nothing_a_read_changes_through_the_orm_is_written(database: Database) -> None:
    with database.write() as session:
        session.execute(sa.text("INSERT INTO note VALUES (1, 'as written')"))
    note = sa.table("note", sa.column("id"), sa.column("body"))
    with database.read() as session:
        # A changed object is not flushed before the next query, as it would be in
        # autocommit, where nothing would roll it back.
        mapped = _Note(id=2, body="made in a read")
        session.add(mapped)
        assert session.scalar(sa.select(sa.func.count()).select_from(note)) == 1
        with pytest.raises(RuntimeError, match="may not write"):
            session.flush()
    with database.read() as session:
        assert session.execute(sa.select(note.c.id, note.c.body)).all() == [(1, "as written")]


class _Base(sa.orm.DeclarativeBase):
    pass


class _Note(_Base):
    __tablename__ = "note"
    id: sa.orm.Mapped[int] = sa.orm.mapped_column(primary_key=True)
    body: sa.orm.Mapped[str]


def _lock_timeout(session: Any) -> str:
    return str(session.scalar(sa.text("SHOW lock_timeout")))


def test_the_lock_timeout_follows_the_patience_and_is_set_only_when_it_changes(
        database: Database) -> None:
    seen = []
    with sent_statements(database.engine) as statements:
        for _ in range(3):
            with impatient(0.1), database.write() as session:
                seen.append(_lock_timeout(session))
        with database.write() as session:  # a caller who may wait as long as it takes
            seen.append(_lock_timeout(session))
        with database.write() as session:
            seen.append(_lock_timeout(session))
    assert seen == ["100ms", "100ms", "100ms", "0", "0"]
    settings = [q for q in statements if "lock_timeout" in q and not q.startswith("SHOW")]
    assert settings == ["SET lock_timeout = 100", "RESET lock_timeout"]


def test_a_setting_taken_back_by_a_rollback_or_a_failed_commit_is_made_again(
        database: Database) -> None:
    class Failed(Exception):
        pass

    with pytest.raises(Failed), impatient(0.1), database.write() as session:
        assert _lock_timeout(session) == "100ms"
        raise Failed  # the rollback takes the SET back
    with impatient(0.1), database.write() as session:
        assert _lock_timeout(session) == "100ms"
    backends = set()
    with database.write() as session:  # patient: the setting goes back to the server's
        backends.add(session.scalar(sa.text("SELECT pg_backend_pid()")))
        session.execute(sa.text("CREATE TABLE parent (id integer PRIMARY KEY)"))
        session.execute(sa.text("CREATE TABLE child (parent integer REFERENCES parent "
                                "DEFERRABLE INITIALLY DEFERRED)"))
    # Set in this transaction, then taken back by its COMMIT, which fails: the deferred
    # key is checked there, after the "commit" event.
    with pytest.raises(sa.exc.IntegrityError), impatient(0.1), database.write() as session:
        backends.add(session.scalar(sa.text("SELECT pg_backend_pid()")))
        assert _lock_timeout(session) == "100ms"
        session.execute(sa.text("INSERT INTO child VALUES (7)"))
    with impatient(0.1), database.write() as session:
        backends.add(session.scalar(sa.text("SELECT pg_backend_pid()")))
        assert _lock_timeout(session) == "100ms"
    assert len(backends) == 1  # one connection all along
