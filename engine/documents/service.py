"""Documents uploaded to process instances, and those the server renders itself.

Customers upload the documents a process asks of them (registrations, product
photos...), staff their reports and working papers, outside parties theirs.
The bytes live on disk in a :class:`~engine.documents.store.FileStore`; the
``document`` table links each upload to its instance, its task and form field.
Only the kinds in :mod:`.accepted_types` are taken from uploads.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from typing import IO, Any, BinaryIO, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.documents.accepted_types import match_type
from engine.documents.filenames import sanitize_filename
from engine.documents.rendering import QUEUED
from engine.documents.store import FileStore, StoredFile
from engine.documents.visibility import VisibilityTable, customer_uploaders, visible
from engine.errors import Conflict, InstanceNotRunning, InvalidInput, NotFound, TaskAlreadyCompleted
from engine.identity.access import Actor
from engine.models import Document, DocumentRender, ProcessInstance, Task
from engine.persistence.db import holds_the_writer
from engine.queries.history import HistoryLog
from engine.queries.history_documents import document_event, reference
from engine.runtime.waits import HandOver, patience
from engine.time.clock import Clock

#: The media type of the documents the server renders itself (letters, receipts).
GENERATED_HTML: Final = "text/html"
#: ``uploaded_by`` of a generated document made without a named user.
GENERATED_BY: Final = "sertiflow"


class DocumentFileError(RuntimeError):
    """A document's stored bytes are missing or damaged; an operator must restore them.

    Not an :class:`~engine.errors.EngineError`: the caller did nothing wrong, and the
    message names server paths that belong in the log, not in a response.
    """


_instance = ProcessInstance.__table__
_task = Task.__table__
# The instance's status with the task's columns (all None when the instance has no
# such task, or no task is asked for), built once.
_TARGET = (
    sa.select(_instance.c.status, _task.c.state, _task.c.title, _task.c.element_id)
    .select_from(_instance.outerjoin(_task, sa.and_(_task.c.id == sa.bindparam("p_task"),
                                                    _task.c.instance_id == _instance.c.id)))
    .where(_instance.c.id == sa.bindparam("p_instance")))
_TARGET_LOCKED = _TARGET.with_for_update(of=_instance)
_document = Document.__table__
_BY_IDS = sa.select(
    _document.c.id, _document.c.instance_id, _document.c.name, _document.c.sha256,
    _document.c.size, _document.c.content_type,
).where(_document.c.id.in_(sa.bindparam("p_ids", expanding=True)))


def _instance_row(session: Session, instance_id: str) -> bool:
    """Whether the instance row exists (also when written by Core, not yet in the ORM)."""
    found = session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.id == instance_id))
    return found is not None


class DocumentService:
    """Uploads, lists and opens the documents of process instances.

    The caller decides who may see an instance and who may add to a task before
    calling; which of a seen instance's documents an actor may see is the
    visibility table's (:meth:`visible_to`, :meth:`get_for`).
    """

    def __init__(self, session: Session, clock: Clock, store: FileStore, *,
                 max_bytes: int, visibility: VisibilityTable | None = None,
                 render: Callable[[str], tuple[str, int]] | None = None) -> None:
        """
        :param render: makes a pending document's file now and returns its SHA-256
            and size (:meth:`~engine.documents.rendering.RenderQueue.render_now`).
        """
        self.session = session
        self.clock = clock
        self.store = store
        self.max_bytes = max_bytes
        self.visibility = visibility or VisibilityTable()
        self.history = HistoryLog(session, clock)
        self.render = render

    def upload(
        self,
        instance_id: str,
        stream: IO[bytes],
        *,
        filename: str | None,
        content_type: str | None,
        uploaded_by: str | None,
        task_id: str | None = None,
        field: str | None = None,
    ) -> Document:
        """Store ``stream`` as a document of the instance (and of a ready task of it).

        ``field`` is the form field (a Camunda Form ``filepicker`` key) it was given
        for. The content decides the stored type; ``filename`` is only displayed.

        :raises NotFound: when the instance does not exist, or has no such task.
        :raises Conflict: when the instance has ended or the task is no longer ready.
        :raises InvalidInput: when the file is too large, empty, of a kind not
            accepted, or its name or declared type disagree with its content.
        """
        if patience() is not None:
            # A caller that must not wait (a server's event loop, serving every other
            # request meanwhile) must not wait on the disk either: the two fsyncs that
            # make the file durable take 5-50 ms. Nothing is done yet; the caller rolls
            # back and runs the upload again where it may wait (engine.runtime.waits).
            raise HandOver("a file is to be written to disk")
        field = field or None  # an empty multipart field means no form field
        if field is not None and len(field) > 255:
            raise InvalidInput("invalid form field", {"field": "at most 255 characters"})
        # Checked before reading the stream, so a wrong target costs no upload...
        element = self._target(instance_id, task_id, lock=False)
        display_name = sanitize_filename(filename) or "document"

        def check(candidate: StoredFile) -> None:
            match_type(candidate.sniffed_type, display_name, content_type)

        stored = self.store.put(stream, max_bytes=self.max_bytes, check=check)
        kind, display_name = match_type(stored.sniffed_type, display_name, content_type)
        # ...and again under the instance's lock (the runtime's lock order), since the
        # task may have been completed while the bytes were arriving. Not on SQLite:
        # there the command has held the one writer since its first statement, so
        # nothing has changed since the first check.
        if not holds_the_writer(self.session):
            element = self._target(instance_id, task_id, lock=True)
        document = Document(
            id=str(uuid.uuid4()), instance_id=instance_id, task_id=task_id, field=field,
            name=display_name, content_type=kind.content_type, size=stored.size,
            sha256=stored.sha256, uploaded_by=uploaded_by, uploaded_at=self.clock.now(),
        )
        self.session.add(document)
        self.history.record(
            instance_id, "document_uploaded", actor=uploaded_by,
            element=element, task_id=task_id,
            # The task is the event's own task_id; the rest is the document row's.
            data=document_event(document.id),
        )
        self.session.flush()
        return document

    def store_generated(
        self,
        instance_id: str,
        content: bytes,
        *,
        name: str,
        content_type: str = GENERATED_HTML,
        field: str | None = None,
        created_by: str | None = None,
    ) -> Document:
        """Store a document the server made itself (a letter, a receipt, a report).

        The upload allow-list refuses HTML on purpose (a browser would run it in our
        origin); generated documents are our own escaped HTML, so they bypass it,
        and the download serves every document in a sandbox (``api/v1/documents``).
        The instance is the one whose command makes the document; it is not locked
        again here.

        :raises NotFound: when the instance does not exist.
        """
        if not _instance_row(self.session, instance_id):
            raise NotFound(f"no process instance {instance_id}")
        stored = self.store.put(io.BytesIO(content), max_bytes=max(len(content), 1))
        document = Document(
            id=str(uuid.uuid4()), instance_id=instance_id, task_id=None, field=field,
            name=sanitize_filename(name) or "dokumen.html", content_type=content_type,
            size=stored.size, sha256=stored.sha256, uploaded_by=created_by or GENERATED_BY,
            uploaded_at=self.clock.now(),
        )
        self.session.add(document)
        self.history.record(
            instance_id, "document_generated", actor=created_by,
            data=document_event(document.id))
        self.session.flush()
        return document

    def store_pending(self, instance_id: str, renderer: str, frozen: bytes, *, name: str,
                      content_type: str, field: str | None = None,
                      created_by: str | None = None) -> Document:
        """Store a generated document whose file is made after this transaction commits.

        ``frozen`` is the renderer's whole input: what the document will say is fixed
        now. The document has no size and SHA-256 until the render queue
        (:mod:`.rendering`) has made it, which records ``document_generated`` then;
        whoever opens it before gets it made on the spot.

        :raises NotFound: when the instance does not exist.
        """
        if not _instance_row(self.session, instance_id):
            raise NotFound(f"no process instance {instance_id}")
        now = self.clock.now()
        document = Document(
            id=str(uuid.uuid4()), instance_id=instance_id, task_id=None, field=field,
            name=sanitize_filename(name) or "dokumen", content_type=content_type,
            size=None, sha256=None, uploaded_by=created_by or GENERATED_BY, uploaded_at=now)
        self.session.add(document)
        self.session.add(DocumentRender(
            document_id=document.id, instance_id=instance_id, renderer=renderer, input=frozen,
            created_by=created_by, attempts=0, next_attempt_at=now))
        # Read by Engine.write after the commit: it wakes this process's renderer.
        self.session.info[QUEUED] = True
        self.session.flush()
        return document

    def get(self, document_id: str) -> Document:
        document = self.session.get(Document, document_id)
        if document is None:
            raise NotFound(f"no document {document_id}")
        return document

    def by_ids(self, document_ids: list[str]) -> dict[str, Any]:
        """The documents of those ids that exist, by id, as rows (the columns a file
        reference holds, and the instance): one statement for a form's many references."""
        rows = self.session.connection().execute(_BY_IDS, {"p_ids": document_ids})
        return {row.id: row for row in rows}

    def get_for(self, actor: Actor, document_id: str) -> Document:
        """The document if ``actor`` may see it (its instance is the caller's to check).

        :raises NotFound: when there is no such document, or ``actor`` may not see it.
        """
        document = self.get(document_id)
        if not self.visible_to(actor, [document]):
            raise NotFound(f"no document {document_id}")
        return document

    def visible_to(self, actor: Actor, documents: list[Document]) -> list[Document]:
        """Those of ``documents`` that ``actor`` may see, in the same order."""
        if not actor.is_customer:
            return documents
        uploaders = customer_uploaders(self.session, documents)
        return [d for d in documents if visible(actor, d, self.visibility, uploaders)]

    def visible_ids(self, actor: Actor, instance_id: str) -> set[str]:
        """The ids of the instance's documents ``actor`` may see."""
        return {d.id for d in self.visible_to(actor, self.list_for_instance(instance_id))}

    def list_for_instance(self, instance_id: str) -> list[Document]:
        # Built once: a task's page lists its instance's documents on every view.
        return list(self.session.scalars(_INSTANCE_DOCUMENTS, {"instance_id": instance_id}))

    def list_for_task(self, task_id: str) -> list[Document]:
        # Through the task's instance: its index finds the few rows (task_id has none).
        instance = sa.select(Task.instance_id).where(Task.id == task_id).scalar_subquery()
        return self._list(sa.and_(Document.instance_id == instance, Document.task_id == task_id))

    def open(self, document: Document) -> BinaryIO:
        """Open the document's bytes for reading; the caller closes the file.

        A pending generated document is made first (in transactions of its own: the
        caller must not hold a write transaction); ``document`` itself is left as read.

        :raises DocumentFileError: when the stored file is missing or its size is
            not the one recorded at upload.
        :raises DocumentNotReady: when a pending document could not be made now.
        """
        sha256, recorded = document.sha256, document.size
        if sha256 is None or recorded is None:
            if self.render is None:
                raise DocumentFileError(f"document {document.id} is not rendered yet and "
                                        "this service cannot render it")
            sha256, recorded = self.render(document.id)
        try:
            file = self.store.open(sha256)
        except FileNotFoundError:
            raise DocumentFileError(
                f"the file of document {document.id} ({document.name!r}, sha256 "
                f"{sha256}) is missing from {self.store.root}") from None
        size = os.fstat(file.fileno()).st_size
        if size != recorded:
            file.close()
            raise DocumentFileError(
                f"the file of document {document.id} ({document.name!r}) holds {size} bytes, "
                f"not the {recorded} recorded at upload")
        return file

    def reference(self, document: Document) -> dict[str, Any]:
        """Return the JSON value a form ``filepicker`` field stores for the document."""
        return reference(document)

    def _target(self, instance_id: str, task_id: str | None, *, lock: bool) -> str | None:
        """Check that the instance runs and the task is ready; return the task's element.

        Only the columns checked are read (never the instance's state, tens of KB), in
        one statement built once: an upload is one of the most frequent commands.
        """
        query = _TARGET_LOCKED if lock else _TARGET
        found = self.session.connection().execute(
            query, {"p_instance": instance_id, "p_task": task_id}).first()
        if found is None:
            raise NotFound(f"no process instance {instance_id}")
        if found.status in ("completed", "cancelled"):
            raise InstanceNotRunning(
                f"process instance {instance_id} is {found.status}; "
                "documents can no longer be added to it")
        if task_id is None:
            return None
        if found.state is None:
            raise NotFound(f"process instance {instance_id} has no task {task_id}")
        name = found.title or found.element_id
        if found.state == "completed":
            raise TaskAlreadyCompleted(
                f"task {name} is completed; documents can no longer be added to it")
        if found.state != "ready":
            raise Conflict(f"task {name} is {found.state}; "
                           "documents can no longer be added to it")
        return str(found.element_id)

    def _list(self, condition: sa.ColumnElement[bool]) -> list[Document]:
        return list(self.session.scalars(sa.select(Document).where(condition)
                                         .order_by(*_DOCUMENT_ORDER)))


_DOCUMENT_ORDER = (Document.uploaded_at, Document.name, Document.id)
_INSTANCE_DOCUMENTS = (sa.select(Document)
                       .where(Document.instance_id == sa.bindparam("instance_id"))
                       .order_by(*_DOCUMENT_ORDER))
