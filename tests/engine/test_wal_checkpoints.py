"""SQLite's log is checkpointed by a thread of its own, not inside commits
(engine.persistence.wal)."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.persistence import wal
from engine.persistence.db import Database
from engine.persistence.wal import LOG_KEPT_BYTES, WalCheckpointer

PAGE = 4096


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "wal.sqlite"


@pytest.fixture
def database(path: Path) -> Iterator[Database]:
    built = Database(f"sqlite:///{path}")
    with built.write() as session:
        session.execute(sa.text("CREATE TABLE page (id integer PRIMARY KEY, body blob)"))
    yield built
    built.dispose()


def _checkpointer(database: Database) -> WalCheckpointer:
    assert database.checkpointer is not None
    return database.checkpointer


def _write_pages(database: Database, pages: int, first: int = 0) -> None:
    """Commit ``pages`` rows of about a page each, one transaction per ten."""
    for start in range(first, first + pages, 10):
        with database.write() as session:
            session.execute(sa.text("INSERT INTO page (id, body) VALUES (:id, zeroblob(3900))"),
                            [{"id": n} for n in range(start, start + 10)])


def _wait_for(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_commit_does_not_checkpoint_and_the_thread_copies_the_whole_log(
        database: Database, path: Path) -> None:
    with database.write() as session:
        assert session.scalar(sa.text("PRAGMA wal_autocheckpoint")) == 0
        assert session.scalar(sa.text("PRAGMA journal_size_limit")) == LOG_KEPT_BYTES
    with database.read() as session:
        assert session.scalar(sa.text("PRAGMA wal_autocheckpoint")) == 0
    checkpointer = _checkpointer(database)
    _write_pages(database, 300)
    assert checkpointer.wait_idle()
    assert checkpointer.last is not None
    pages, copied = checkpointer.last
    assert pages >= 300
    assert copied == pages  # nothing was left in the log only
    # What a fresh connection reads without the log is everything written.
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM page").fetchone()[0] == 300


def test_the_log_starts_again_instead_of_growing(database: Database, path: Path) -> None:
    checkpointer = _checkpointer(database)
    wal = Path(f"{path}-wal")
    for round_ in range(5):
        _write_pages(database, 200, first=round_ * 200)
        assert checkpointer.wait_idle()
        assert checkpointer.last is not None and checkpointer.last[0] == checkpointer.last[1]
    # 1,000 pages went through the log; it was reused, not extended, after each round.
    assert wal.stat().st_size < 400 * (PAGE + 24)
    assert checkpointer.checkpoints >= 5


def test_a_log_past_its_limit_is_finished_while_this_process_writes_nothing(
        database: Database, path: Path) -> None:
    checkpointer = _checkpointer(database)
    turn = database._writer_turn
    assert turn is not None
    assert checkpointer.wait_idle()
    # The writes below end well before the checkpoint that follows them begins.
    checkpointer.every_s, checkpointer.limit_pages = 0.5, 50
    # A reader on an old snapshot keeps the checkpoint from copying what follows.
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM page").fetchone()
    held: list[bool] = []
    original = checkpointer._passive

    def noting(conn: sqlite3.Connection) -> tuple[int, int]:
        held.append(turn.locked())
        return original(conn)

    checkpointer._passive = noting  # type: ignore[method-assign]
    try:
        _write_pages(database, 100)
        _wait_for(lambda: checkpointer.turns_taken >= 1)
        # The first pass ran beside the writers, the second held their turn.
        assert held[:2] == [False, True]
        pages, copied = checkpointer.last  # type: ignore[misc]
        assert pages >= 100 and copied < pages
    finally:
        reader.execute("COMMIT")
        reader.close()
    _write_pages(database, 10, first=100)
    assert checkpointer.wait_idle() and not turn.locked()
    # With the reader gone everything was copied, and the next writer began the log
    # again: it holds only what came after.
    _write_pages(database, 10, first=110)
    assert checkpointer.wait_idle()
    assert checkpointer.last is not None and checkpointer.last[0] < 50


def test_under_steady_writes_the_log_stays_near_its_limit(database: Database,
                                                          path: Path) -> None:
    """Commits that land during every checkpoint would keep the log from starting
    again; the pass under the writer turn lets it."""
    checkpointer = _checkpointer(database)
    assert checkpointer.wait_idle()
    checkpointer.every_s, checkpointer.limit_pages = 0.005, 100
    wal = Path(f"{path}-wal")
    largest = 0
    # About 6,000 pages written back to back (thousands of commits a second), with
    # no pause for a checkpoint to finish between two commits. The log grows by
    # what comes in between two passes under the turn (several hundred pages at
    # this rate), and then starts again; without those passes it grew to all of it.
    for start in range(0, 3000):
        with database.write() as session:
            session.execute(sa.text("INSERT INTO page (id, body) VALUES (:id, zeroblob(3900))"),
                            {"id": start})
        if start % 20 == 0:
            largest = max(largest, wal.stat().st_size)
    assert checkpointer.turns_taken >= 1
    assert largest < 2500 * (PAGE + 24), f"the log grew to {largest // (PAGE + 24)} pages"


def test_stopping_ends_the_thread_and_a_later_commit_starts_it_again(
        database: Database) -> None:
    checkpointer = _checkpointer(database)
    _write_pages(database, 10)
    _wait_for(lambda: checkpointer.checkpoints >= 1)
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    checkpointer.stop()
    assert not thread.is_alive()
    before = checkpointer.checkpoints
    _write_pages(database, 10, first=10)
    _wait_for(lambda: checkpointer.checkpoints > before)


def test_a_database_in_memory_has_no_log_and_no_thread() -> None:
    database = Database("sqlite://")
    try:
        with database.write() as session:
            session.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY)"))
        checkpointer = _checkpointer(database)
        _wait_for(lambda: checkpointer._unneeded)
        first = checkpointer._thread
        with database.write() as session:
            session.execute(sa.text("INSERT INTO note (id) VALUES (1)"))
        # The thread that found no log ended, and the commit started no other.
        assert first is not None and not first.is_alive()
        assert checkpointer._thread is first
    finally:
        database.dispose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_checkpoints_with_a_thread_of_its_own(database: Database) -> None:
    checkpointer = _checkpointer(database)
    _write_pages(database, 10)
    _wait_for(lambda: checkpointer.checkpoints >= 1)
    pid = os.fork()
    if pid == 0:  # the child: its parent's thread does not run here
        code = 1
        try:
            # What a commit calls; the child writes nothing itself, because SQLite
            # connections must not be used across fork() (the server's workers and
            # the render child open their own).
            before = checkpointer.checkpoints
            checkpointer.committed()
            deadline = time.monotonic() + 10
            while checkpointer.checkpoints == before and time.monotonic() < deadline:
                time.sleep(0.01)
            code = 0 if checkpointer.checkpoints > before else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_checkpointer_that_cannot_open_the_database_says_so_once_per_retry(
        database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    checkpointer = _checkpointer(database)
    checkpointer.stop()
    monkeypatch.setattr(wal, "RETRY_AFTER_S", 3.0)
    checkpointer._connect_args = ([str(tmp_path / "gone" / "wal.sqlite")], {})

    def failures() -> int:
        return sum("could not open" in r.getMessage() for r in caplog.records)

    with caplog.at_level(logging.ERROR, logger="engine.persistence.wal"):
        _write_pages(database, 10)  # the first commit starts the thread, which fails
        _wait_for(lambda: failures() > 0)
        _write_pages(database, 40, first=10)  # four more commits within the wait
        time.sleep(0.3)  # what a thread started by them would log, it has by now
        assert failures() == 1
        # The commits went on: the log is only left uncopied.
        with database.read() as session:
            assert session.scalar(sa.text("SELECT count(*) FROM page")) == 50
        checkpointer.stop()
