"""Who and where of the events whose row of record says it already.

Two kinds of event are stored without the facts another row of the instance keeps
for as long as they do (both rows go together, to the archive and back):

- ``task_completed``: its element and its actor are the task row's ``element_id``
  and ``completed_by`` (the completion writes both); the event keeps ``task_id``;
- ``document_uploaded``: its actor, task and element are the document row's
  ``uploaded_by`` and ``task_id`` and that task's ``element_id``; the event keeps
  the document's id in its data (:mod:`engine.queries.history_documents`).

:func:`fill` puts them back into events as read, two queries at most. A stored
event tells which form it has: a ``task_completed`` row always had its element
before, a ``document_uploaded`` row whose actor, task and element are all empty
is given the document row's (which says the same of an older such row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.models import Document, HistoryEvent, Task

TASK_COMPLETED = "task_completed"
DOCUMENT_UPLOADED = "document_uploaded"


class _Event(Protocol):
    kind: str
    actor: str | None
    element_id: str | None
    task_id: str | None
    data: Any


def _completion(event: _Event) -> bool:
    return (event.kind == TASK_COMPLETED and event.task_id is not None
            and event.element_id is None and event.actor is None)


def _upload(event: _Event) -> str | None:
    """The document id of an upload stored without its facts, else None."""
    if (event.kind != DOCUMENT_UPLOADED or event.actor is not None
            or event.element_id is not None or event.task_id is not None):
        return None
    data = event.data
    found = data.get("document_id") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def stored(kind: str, *, actor: str | None, element: str | None, task_id: str | None
           ) -> tuple[str | None, str | None, str | None]:
    """What an event of ``kind`` keeps of its actor, element and task, in that order."""
    if kind == TASK_COMPLETED and task_id is not None:
        return None, None, task_id
    if kind == DOCUMENT_UPLOADED:
        return None, None, None
    return actor, element, task_id


def fill(session: Session, events: Iterable[HistoryEvent]) -> None:
    """Put the facts of the rows of record back into ``events`` (ORM objects), set as
    loaded, so the session never writes them back."""
    events = list(events)
    completions = [e for e in events if _completion(e)]
    uploads = [(e, document) for e in events if (document := _upload(e)) is not None]
    tasks: dict[str, tuple[str | None, str | None]] = {}
    if completions:
        tasks = {row.id: (row.element_id, row.completed_by) for row in session.execute(
            sa.select(Task.id, Task.element_id, Task.completed_by)
            .where(Task.id.in_({e.task_id for e in completions})))}
    documents: dict[str, tuple[str | None, str | None, str | None]] = {}
    if uploads:
        documents = {row.id: (row.uploaded_by, row.task_id, row.element_id)
                     for row in session.execute(
                         sa.select(Document.id, Document.uploaded_by, Document.task_id,
                                   Task.element_id)
                         .outerjoin(Task, Task.id == Document.task_id)
                         .where(Document.id.in_({d for _, d in uploads})))}
    for event in completions:
        element, actor = tasks.get(str(event.task_id), (None, None))
        set_committed_value(event, "element_id", element)
        set_committed_value(event, "actor", actor)
    for event, document in uploads:
        actor, task_id, element = documents.get(document, (None, None, None))
        set_committed_value(event, "actor", actor)
        set_committed_value(event, "task_id", task_id)
        set_committed_value(event, "element_id", element)


def fill_rows(events: Sequence[dict[str, Any]], tasks: Iterable[Mapping[str, Any]],
              documents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The same for rows as plain dicts (an archived instance's tables): copies."""
    by_task = {row["id"]: row for row in tasks}
    by_document = {row["id"]: row for row in documents}
    out = []
    for row in events:
        event = _Row(row)
        if _completion(event):
            task = by_task.get(row["task_id"]) or {}
            row = {**row, "element_id": task.get("element_id"),
                   "actor": task.get("completed_by")}
        elif (document_id := _upload(event)) is not None:
            document = by_document.get(document_id) or {}
            task = by_task.get(document.get("task_id")) or {}
            row = {**row, "actor": document.get("uploaded_by"),
                   "task_id": document.get("task_id"), "element_id": task.get("element_id")}
        out.append(row)
    return out


class _Row:
    """A dict row read through the attributes :func:`_completion` and :func:`_upload` use."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.kind = row.get("kind", "")
        self.actor = row.get("actor")
        self.element_id = row.get("element_id")
        self.task_id = row.get("task_id")
        self.data = row.get("data")
