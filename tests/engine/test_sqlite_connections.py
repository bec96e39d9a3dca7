"""SQLite connections: each thread keeps one to read on and one to write on, between
transactions, instead of a pool checkout per transaction (engine.persistence.db)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from engine.persistence.db import Database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    built = Database(f"sqlite:///{tmp_path / 'held.sqlite'}")
    with built.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY, body text)"))
    yield built
    built.dispose()


@pytest.fixture
def checkouts(database: Database) -> list[Any]:
    """The DBAPI connection of each pool checkout, in order."""
    seen: list[Any] = []

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        seen.append(dbapi_connection)

    event.listen(database.engine.pool, "checkout", on_checkout)
    return seen


def _count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(sa.text("SELECT count(*) FROM note")))


def test_a_thread_takes_its_connections_from_the_pool_once(database: Database,
                                                            checkouts: list[Any]) -> None:
    for n in range(5):
        with database.write() as session:
            session.execute(sa.text("INSERT INTO note (id, body) VALUES (:id, 'x')"),
                            {"id": n})
        assert _count(database) == n + 1
    # One for the writes, one for the reads.
    assert len(checkouts) == 2 and checkouts[0] is not checkouts[1]


def test_a_transaction_inside_another_of_its_kind_takes_its_own(database: Database,
                                                                 checkouts: list[Any]) -> None:
    with database.read() as outer:
        assert outer.scalar(sa.text("SELECT count(*) FROM note")) == 0
        with database.write() as session:
            session.execute(sa.text("INSERT INTO note (id, body) VALUES (1, 'x')"))
        with database.read() as inner:
            assert inner.scalar(sa.text("SELECT count(*) FROM note")) == 1
        # The outer read keeps its snapshot: it began before the write.
        assert outer.scalar(sa.text("SELECT count(*) FROM note")) == 0
    assert len(checkouts) == 3
    # Then the thread's own again.
    assert _count(database) == 1
    assert len(checkouts) == 3


def test_a_failed_write_leaves_nothing_and_its_connection_serves_the_next(
        database: Database, checkouts: list[Any]) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        session.execute(sa.text("INSERT INTO note (id, body) VALUES (1, 'x')"))
        raise RuntimeError("refused")
    with database.write() as session:
        session.execute(sa.text("INSERT INTO note (id, body) VALUES (2, 'y')"))
    with database.read() as session:
        assert list(session.scalars(sa.text("SELECT id FROM note"))) == [2]
    assert len(checkouts) == 2


def test_a_connection_left_in_a_transaction_goes_back_to_the_pool(
        database: Database, checkouts: list[Any]) -> None:
    with database.write() as session:
        held = session.connection()
        session.execute(sa.text("INSERT INTO note (id, body) VALUES (1, 'x')"))
        session.commit()
        session.close()
        held.begin()  # not the session's: still open when the session ends
    assert held.closed
    with database.write() as session:  # the writer is free: no lock was kept
        session.execute(sa.text("INSERT INTO note (id, body) VALUES (2, 'y')"))
    assert _count(database) == 2
    assert len(checkouts) == 3 and checkouts[2] is not checkouts[0]
    pool: Any = database.engine.pool
    assert pool.checkedout() == 2  # the thread's new writer and its reader


def test_the_connections_of_an_ended_thread_are_closed(database: Database) -> None:
    def work() -> None:
        with database.write() as session:
            session.execute(sa.text("INSERT INTO note (id, body) VALUES (1, 'x')"))
        assert _count(database) == 1

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    pool: Any = database.engine.pool
    assert pool.checkedout() == 2
    assert _count(database) == 1  # this thread's first: the ended thread's are closed
    assert pool.checkedout() == 1
    database.dispose()
    assert pool.checkedout() == 0


def test_a_connection_that_cannot_be_had_leaves_the_writer_free(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'refused.sqlite'}", writer_wait_s=0.5)
    refusals = [RuntimeError("no connection")]

    def refuse_once(*_: Any) -> None:
        if refusals:
            raise refusals.pop()

    event.listen(database.engine.pool, "checkout", refuse_once)
    try:
        with pytest.raises(RuntimeError, match="no connection"), database.write():
            pass
        # The turn to write was given back: the next command has it at once.
        with database.write() as session:
            session.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY)"))
        with database.read() as session:
            assert session.scalar(sa.text("SELECT count(*) FROM note")) == 0
    finally:
        database.dispose()


def test_no_more_are_held_than_the_pool_keeps_whatever_the_threads(
        database: Database) -> None:
    # Threads that stay alive (a server's request threads, the scheduler's workers)
    # hold their connections; past the pool's size they take them from the pool and
    # give them back, so the pool's overflow is never used up by idle threads.
    pool: Any = database.engine.pool
    # Two more than the pool's size: every connection they might hold still fits in
    # the pool with its overflow, so an unbounded hold shows as a count, not a hang.
    threads_n = pool.size() + 2
    worked = threading.Barrier(threads_n + 1, timeout=60)
    done = threading.Event()
    counts: list[int] = []

    def work(n: int) -> None:
        with database.write() as session:
            session.execute(sa.text("INSERT INTO note (id, body) VALUES (:id, 'x')"),
                            {"id": n})
        counts.append(_count(database))
        worked.wait()
        done.wait(60)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    try:
        worked.wait()
        assert len(counts) == threads_n
        assert pool.checkedout() == pool.size()
        # Work in this thread still has a connection, and gives it back.
        assert _count(database) == threads_n
        assert pool.checkedout() == pool.size()
    finally:
        done.set()
        for thread in threads:
            thread.join()
