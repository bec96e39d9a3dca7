"""Generated documents rendered after the command that made them: the render queue.

Rendering a document (a PDF, say) can cost a hundred times what the command that
decides it costs. So a command stores a *pending* document instead
(:meth:`~engine.documents.service.DocumentService.store_pending`): a document row
without a file yet, and a ``document_render`` row holding the renderer's input,
frozen by the command so that what the document says cannot change afterwards
(a later change of settings or templates makes new documents differ, never this one).
The renderers are functions from that input to the file's bytes, registered by
extensions under a name (``Setup.renderer``).

The file is then made exactly once:

- :meth:`RenderQueue.drain` claims due rows one at a time (``FOR UPDATE SKIP LOCKED``
  on PostgreSQL; SQLite's single writer serialises the claims), renders outside any
  transaction, and stores the result in a short transaction only while its claim
  still holds (a renderer that outlived its lease finds the row taken and stores
  nothing). The ``document_generated`` history event is recorded then.
- A server process runs it in a thread woken after each command that queued a
  document (:meth:`RenderQueue.start_worker`); the timer sweep runs it too, so a
  document queued by another process or left by a crash is rendered within a beat.
  A server also hands the renderers' work to a child process
  (:meth:`RenderQueue.render_in_child`, :mod:`engine.documents.render_process`): the
  thread only claims, waits on a pipe and stores, so requests do not queue behind
  the renderer for the interpreter lock.
- Someone opening a pending document renders it then and there
  (:meth:`RenderQueue.render_now`), or waits for the renderer already at work.
- A renderer that fails is tried again later (10 s, 20 s, ...); after
  :data:`MAX_ATTEMPTS` an incident of kind :data:`RENDER_INCIDENT` is opened on the
  instance, and retrying it (``retry_incident``) puts the document back in the queue.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.documents.render_process import RENDERERS_ENV, RenderProcess, importable_name
from engine.documents.store import FileStore, StoredFile
from engine.errors import Conflict, NotFound
from engine.models import Document, DocumentRender, Incident
from engine.persistence.db import Database
from engine.queries.history import HistoryLog
from engine.queries.history_documents import document_event
from engine.time.clock import Clock

log = logging.getLogger(__name__)

#: A renderer: the frozen input in, the file's bytes out.
Renderer = Callable[[bytes], bytes]
#: ``session.info`` key set by a transaction that queued a document.
QUEUED: Final = "sertiflow.renders_queued"
#: Failed renders of one document before an incident is opened.
MAX_ATTEMPTS: Final = 3
#: The kind of the incident opened when a document cannot be made.
RENDER_INCIDENT: Final = "document"
# How long a claim holds: far longer than any render, short enough that a document
# claimed by a process that died is rendered by another soon after.
LEASE: Final = timedelta(minutes=5)
FIRST_RETRY: Final = timedelta(seconds=10)
# How long a reader waits for a render another thread or process is doing.
WAIT_FOR_OTHER_S: Final = 30.0
# How often the worker looks for work without being woken (documents queued by
# another process, retries falling due).
WORKER_POLL_S: Final = 5.0


class DocumentNotReady(Conflict):
    """The document's file is not made yet (it failed, or is still being made)."""


@dataclass(frozen=True)
class _Job:
    document_id: str
    instance_id: str
    renderer: str
    input: bytes
    attempts: int
    claim: str
    created_by: str | None


class RenderQueue:
    """Renders pending documents: in a worker thread, in a sweep, or on demand."""

    def __init__(self, db: Database, clock: Clock, store: FileStore,
                 renderers: Mapping[str, Renderer], *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.db = db
        self.clock = clock
        self.store = store
        self.renderers = renderers
        self.max_attempts = max_attempts
        #: Renderer calls made by this queue (for tests and benchmarks).
        self.calls = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._child: RenderProcess | None = None

    def render_in_child(self) -> RenderProcess | None:
        """From now on, have a child process run the renderers that it can import by name
        (``module:function``); others keep running in this process. Return the child's
        handle (started at the first render), or None when no renderer can move."""
        named = {name: reference for name, render in self.renderers.items()
                 if (reference := importable_name(render)) is not None}
        if not named or self._child is not None:
            return self._child
        child = RenderProcess(
            [sys.executable, "-m", "engine.documents.render_process"],
            env={**os.environ, RENDERERS_ENV: ",".join(f"{n}={r}" for n, r in named.items())})
        self.renderers = {**self.renderers, **{name: child.renderer(name) for name in named}}
        self._child = child
        return child

    # -- rendering ---------------------------------------------------------------------------

    def drain(self, limit: int = 100) -> int:
        """Render the due pending documents, at most ``limit``; return how many were made."""
        made = 0
        for _ in range(limit):
            job = self._claim(None)
            if job is None:
                break
            if self._run(job) is not None:
                made += 1
        return made

    def render_now(self, document_id: str) -> tuple[str, int]:
        """Make a pending document's file now, or wait for the renderer at work on it;
        return its SHA-256 and size (those of a document already made at once).

        Never call it inside a write transaction: it opens its own.

        :raises NotFound: when there is no such document.
        :raises DocumentNotReady: when the renderer failed, or the one at work on it
            did not finish within :data:`WAIT_FOR_OTHER_S`.
        """
        deadline = time.monotonic() + WAIT_FOR_OTHER_S
        while True:
            job = self._claim(document_id)
            if job is not None:
                done = self._run(job)
                if done is not None:
                    return done
            with self.db.read() as session:
                row = session.execute(sa.select(Document.sha256, Document.size).where(
                    Document.id == document_id)).first()
                last_error = session.scalar(sa.select(DocumentRender.last_error).where(
                    DocumentRender.document_id == document_id))
            if row is None:
                raise NotFound(f"no document {document_id}")
            if row.sha256 is not None:
                return row.sha256, row.size
            if job is not None:  # ours failed (its error is recorded)
                raise DocumentNotReady(f"the document {document_id} could not be made: "
                                       f"{last_error or 'unknown error'}")
            if time.monotonic() > deadline:
                raise DocumentNotReady(f"the document {document_id} is still being made; "
                                       "try again in a moment")
            time.sleep(0.05)

    def _claim(self, document_id: str | None) -> _Job | None:
        """Claim one row (that document's, or the next due) for this renderer, or None."""
        now = self.clock.now()
        query = sa.select(DocumentRender).where(
            sa.or_(DocumentRender.claimed_until.is_(None), DocumentRender.claimed_until < now))
        if document_id is not None:
            query = query.where(DocumentRender.document_id == document_id)
        else:
            query = (query.where(DocumentRender.next_attempt_at.is_not(None),
                                 DocumentRender.next_attempt_at <= now)
                     .order_by(DocumentRender.next_attempt_at))
        query = query.limit(1).with_for_update(skip_locked=True)
        if document_id is None and not self._any_due(now):
            return None  # on SQLite, an idle queue takes no write lock
        with self.db.write() as session:
            row = session.scalars(query).first()
            if row is None:
                return None
            row.attempts += 1
            row.claim = str(uuid.uuid4())
            row.claimed_until = now + LEASE
            return _Job(row.document_id, row.instance_id, row.renderer, row.input,
                        row.attempts, row.claim, row.created_by)

    def _any_due(self, now: datetime) -> bool:
        with self.db.read() as session:
            return session.execute(sa.select(DocumentRender.document_id).where(
                DocumentRender.next_attempt_at <= now).limit(1)).first() is not None

    def _run(self, job: _Job) -> tuple[str, int] | None:
        """Render a claimed job outside any transaction and store it; None if it failed
        or its claim was lost meanwhile."""
        renderer = self.renderers.get(job.renderer)
        try:
            if renderer is None:
                raise LookupError(f"no renderer named {job.renderer!r} is installed")
            self.calls += 1
            content = renderer(job.input)
            stored = self.store.put(io.BytesIO(content), max_bytes=max(len(content), 1))
        except Exception as exc:  # a renderer's failure of any kind is the document's
            log.warning("document %s could not be rendered (attempt %d): %s",
                        job.document_id, job.attempts, exc)
            self._failed(job, exc)
            return None
        return self._store(job, stored)

    def _store(self, job: _Job, stored: StoredFile) -> tuple[str, int] | None:
        with self.db.write() as session:
            taken = session.execute(sa.delete(DocumentRender).where(
                DocumentRender.document_id == job.document_id,
                DocumentRender.claim == job.claim).returning(DocumentRender.incident_id)).first()
            if taken is None:
                return None  # the lease ran out and another renderer took the row
            document = session.get(Document, job.document_id)
            if document is None:
                return None
            document.sha256, document.size = stored.sha256, stored.size
            now = self.clock.now()
            if taken.incident_id is not None:  # made after all: the incident is moot
                session.execute(sa.update(Incident).where(
                    Incident.id == taken.incident_id, Incident.status == "open").values(
                    status="resolved", resolved_at=now))
            HistoryLog(session, self.clock).record(
                job.instance_id, "document_generated", actor=job.created_by,
                data=document_event(document.id))  # the row's facts, read back from it
            return stored.sha256, stored.size

    def _failed(self, job: _Job, exc: Exception) -> None:
        with self.db.write() as session:
            row = session.scalars(sa.select(DocumentRender).where(
                DocumentRender.document_id == job.document_id,
                DocumentRender.claim == job.claim).with_for_update()).first()
            if row is None:
                return
            now = self.clock.now()
            error = f"{type(exc).__name__}: {exc}"[:2000]
            row.claim = row.claimed_until = None
            row.last_error = error
            if row.attempts < self.max_attempts:
                row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
                return
            row.next_attempt_at = None
            if row.incident_id is None:
                row.incident_id = _open_incident(session, self.clock, row, error,
                                                 "".join(traceback.format_exception(exc)))

    # -- the worker thread -------------------------------------------------------------------

    def notify(self) -> None:
        """A transaction queued a document: wake the worker (if this process runs one)."""
        self._wake.set()

    def start_worker(self) -> None:
        """Render in a background thread of this process, woken after each command that
        queued a document and every :data:`WORKER_POLL_S` seconds."""
        if self._worker is not None:
            return
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="document-renderer",
                                        daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            self._stop.set()
            self._wake.set()
            worker.join()
        if self._child is not None:
            self._child.close()

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(WORKER_POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while self.drain() and not self._stop.is_set():
                    pass
            except Exception:  # the database away for a moment: try at the next wake
                log.exception("the document renderer stopped a round")


def _open_incident(session: Session, clock: Clock, row: DocumentRender, error: str,
                   trace: str) -> int:
    """The incident on the instance saying its document could not be made, and what to do."""
    document = session.get(Document, row.document_id)
    name = document.name if document is not None else row.document_id
    # Staff read it on the instance page: in Indonesian, saying what to do.
    message = (f"Dokumen '{name}' belum dapat dibuat setelah {row.attempts} kali percobaan "
               f"({error}). Perbaiki penyebabnya (pembuat dokumen '{row.renderer}' atau "
               "templatnya), lalu ulangi insiden ini agar dokumen dibuat kembali; proses "
               "tetap berjalan.")
    incident_id = session.execute(sa.insert(Incident).values(
        instance_id=row.instance_id, task_id=None, element_id=None, kind=RENDER_INCIDENT,
        message=message, traceback=trace, status="open", created_at=clock.now(),
    ).returning(Incident.id)).scalar_one()
    HistoryLog(session, clock).record(row.instance_id, "incident_opened",
                                      data={"kind": RENDER_INCIDENT, "message": message,
                                            "document_id": row.document_id})
    return int(incident_id)


def requeue(session: Session, incident_id: int, now: datetime) -> int:
    """Put the documents of a render incident back in the queue, with fresh attempts;
    return how many. The caller resolves the incident."""
    result = session.execute(sa.update(DocumentRender).where(
        DocumentRender.incident_id == incident_id).values(
        attempts=0, next_attempt_at=now, incident_id=None, claim=None, claimed_until=None))
    session.info[QUEUED] = True
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
