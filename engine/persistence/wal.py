"""SQLite's write-ahead log, copied into the database file by a thread of its own.

Left to itself, SQLite checkpoints inside a commit: the commit that brings the log
past 1,000 pages also copies them into the database file and syncs both files.
On this project's 2-core machine that is 5 to 10 ms, about once in 40 task
completions, and in the server's event loop every request queued behind that
commit waits as long. Out of the commits, the completion p95 of ``bench/api.py``
on SQLite went from between 12.3 and 12.8 ms to between 9.8 and 10.2 (README,
"Eighth session of issue 20").

:class:`WalCheckpointer` takes that work off the committing thread. The
database's connections are opened with ``wal_autocheckpoint=0``; each commit
only wakes the checkpointer, which waits :data:`CHECKPOINT_EVERY_S` to gather
what follows and then runs a ``PASSIVE`` checkpoint on a connection of its own.
A passive checkpoint waits for nobody and nobody waits for it, and the sqlite3
module lets go of the interpreter lock while SQLite copies and syncs, so the
copying runs on another core while requests go on.

The log starts again from its beginning only when a writer begins with every
page of it already copied. Under steady writes a commit lands during nearly every
checkpoint (its syncs take milliseconds), and the log would grow without end:
the server's did, to 883 MB over 3,000 instances of ``bench/api.py``, before
this was known. So when the log holds :data:`LOG_LIMIT_PAGES` or more after a checkpoint,
the checkpointer takes this process's writer turn (no command of this process
writes meanwhile), copies what came in during the first pass, and the next
writer starts the log again. Under that load the log peaks at about twice the
limit (16 MB).

Durability is SQLite's: the checkpoint syncs the log before it copies and the
database file after, as one inside a commit does. If the process stops, the log
stays on disk, and the next connection to the database reads it (the last one
to close checkpoints it).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# How long a commit's wake-up waits before the checkpoint, gathering the commits
# that follow: a page written by several of them is copied once.
CHECKPOINT_EVERY_S = 0.2
# Past this many pages in the log (4 KiB each), a checkpoint is finished while this
# process's writers wait, so that the log starts again (see the module's text).
LOG_LIMIT_PAGES = 2000
# A log left longer than this (a long reader kept it from starting again) is cut
# back to it when it does start again.
LOG_KEPT_BYTES = 32 * 1024 * 1024
# After a checkpoint fails (a full disk, say), or its connection could not be
# opened, the next try waits this long.
RETRY_AFTER_S = 5.0


class WalCheckpointer:
    """Checkpoints one SQLite database's log in a background thread (module text).

    :meth:`committed` is called after each commit; the thread starts on the first
    one (and again in a forked child, where the parent's thread does not run).
    :meth:`stop` ends the thread and closes its connection.
    """

    def __init__(self, engine: Engine, writer_turn: threading.Lock | None, *,
                 synchronous: str, busy_timeout_s: float,
                 every_s: float = CHECKPOINT_EVERY_S,
                 limit_pages: int = LOG_LIMIT_PAGES) -> None:
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._writer_turn = writer_turn
        self._synchronous = synchronous
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        # Both may be changed while it runs (tests do).
        self.every_s = every_s
        self.limit_pages = limit_pages
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Set when the database keeps no write-ahead log (in memory, say).
        self._unneeded = False
        self._checkpointing = False
        # What the last checkpoint reported: (pages in the log, pages copied).
        self.last: tuple[int, int] | None = None
        self.checkpoints = 0  # completed by this checkpointer
        self.turns_taken = 0  # of them, those finished holding the writer turn

    def committed(self, *_: Any) -> None:
        """Note that the log has grown (an engine ``commit`` listener: cheap)."""
        thread = self._thread
        if (thread is None or not thread.is_alive()) and not self._unneeded:
            self._start()  # the first commit, or the first in a forked child
        if not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            thread = self._thread
            if thread is not None and thread.is_alive():
                return
            if self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the thread (a checkpoint under way finishes first); commits after this
        start it again."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._stopping.clear()
        self._wake.clear()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Wait until no checkpoint is due or under way (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout_s
        while ((self._wake.is_set() or self._checkpointing)
               and self._thread is not None and self._thread.is_alive()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- the thread ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection | None:
        # As SQLAlchemy connects (a URI's parameters included), in this thread only.
        args, kwargs = self._connect_args
        connect: Any = sqlite3.connect
        conn: sqlite3.Connection = connect(*args, **{**kwargs, "check_same_thread": True})
        conn.isolation_level = None
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()  # in memory, or another journal: nothing to checkpoint
            return None
        # It syncs as the committing connections would; it never commits itself.
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        return conn

    def _run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error:
            log.exception("the SQLite checkpointer could not open the database; it tries "
                          "again after the next commit, %g s from now at the soonest",
                          RETRY_AFTER_S)
            # Alive meanwhile, so that the commits do not start a thread each.
            self._stopping.wait(RETRY_AFTER_S)
            return
        if conn is None:
            self._unneeded = True
            return
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                if self._stopping.wait(self.every_s):
                    break
                self._checkpointing = True
                self._wake.clear()  # commits from here on wake it again
                try:
                    self._checkpoint(conn)
                except sqlite3.Error:
                    log.exception("a SQLite checkpoint failed; the log is kept and the "
                                  "next checkpoint tries again")
                    self._stopping.wait(RETRY_AFTER_S)
                finally:
                    self._checkpointing = False
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        pages, _copied = self._passive(conn)
        turn = self._writer_turn
        # The log has not started again for this long: commits landed during the
        # copies (the counts do not show them: they are of the log as the copy began)
        # or a reader holds an old snapshot. Copy the rest while no writer can add.
        if (pages >= self.limit_pages and turn is not None
                and turn.acquire(timeout=self._busy_timeout_ms / 1000)):
            try:
                self._passive(conn)
                self.turns_taken += 1
            finally:
                turn.release()

    def _passive(self, conn: sqlite3.Connection) -> tuple[int, int]:
        busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not busy:
            self.checkpoints += 1
        self.last = (pages, copied)
        return pages, copied
