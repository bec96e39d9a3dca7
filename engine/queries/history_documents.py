"""Documents in the history, kept as references to their ``document`` row.

A document's facts (name, size, SHA-256, type, form field) are in its ``document``
row, which never changes once its file exists and lives as long as its instance.
The history used to copy them into each event that told of the document, about
a quarter of the bytes of a document-heavy instance's history:

- a ``document_uploaded`` or ``document_generated`` event's whole data is the
  row's facts: only ``{"document_id": id}`` is stored (:func:`document_event`);
  the event's kind and that lone key tell it from an older row, which has all;
- a form's file field stores the document's reference
  (:meth:`engine.documents.service.DocumentService.reference`) in a variable, so
  ``task_completed`` (and the other events carrying variables) repeated it: a
  reference equal to the one its row gives is stored as ``None``, listed under
  the reserved top-level key :data:`FILES` as ``[path, id]`` (a list of
  references: ``[path, [id, ...]]``) (:func:`compact`).

Which values are considered, as in :mod:`engine.queries.history_values`: each
top-level entry of the data, and each entry of a top-level mapping
(``variables``, ``changed``). Only a reference equal, key by key and type by
type, to its row's is replaced, so reading it back (:func:`expand`) gives exactly
what was recorded; any other value is kept whole. The rows are those the form
check has just loaded and handed over with :func:`at_hand`: compacting costs no
query, and a reference whose row is not at hand is simply kept whole.

Rows written before this module existed hold the full data and are read as they
are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.models import Document, HistoryEvent

#: The events that tell of one document; their data is that document's facts.
DOCUMENT_KINDS = frozenset({"document_uploaded", "document_generated"})
#: Reserved top-level key of event data: ``[[path, id or [ids]], ...]``.
FILES = "$files"
# The keys of a file field's value, in the order DocumentService.reference gives them.
_REFERENCE_KEYS = ("id", "name", "sha256", "size", "content_type")


# session.info key: the references of the documents the command's form check read, by
# id (the session's identity map holds its objects weakly: gone once the check returns).
_AT_HAND = "history_documents.at_hand"


def at_hand(session: Session, document: Any) -> None:
    """Keep ``document`` (a row or ORM object just read by a form check) for this
    session's history records."""
    if document.sha256 is not None:  # a file to refer to (a pending one is never sent)
        # Its reference, not the object: read now, never refreshed by a later access.
        session.info.setdefault(_AT_HAND, {})[document.id] = reference(document)


def document_event(document_id: str) -> dict[str, Any]:
    """The stored data of a ``document_uploaded``/``document_generated`` event."""
    return {"document_id": document_id}


def event_facts(document: Any) -> dict[str, Any]:
    """What a document event tells of ``document`` (a row or ORM object), as read."""
    return {"document_id": document.id, "name": document.name, "size": document.size,
            "sha256": document.sha256, "content_type": document.content_type,
            "field": document.field}


def reference(document: Any) -> dict[str, Any]:
    """The value a file field stores for ``document`` (a row or ORM object)."""
    return {"id": document.id, "name": document.name, "sha256": document.sha256,
            "size": document.size, "content_type": document.content_type}


def compact(session: Session, data: Any) -> Any:
    """``data`` with its file references replaced as the module describes.

    ``data`` must be plain JSON; it is not changed (a copy is made when needed).
    """
    if not isinstance(data, dict) or not data:
        return data
    refs: list[list[Any]] = []
    out: dict[str, Any] | None = None
    for key, value in data.items():
        if (ids := _referenced(session, value)) is not None:
            out = out if out is not None else dict(data)
            out[key] = None
            refs.append([[key], ids])
        elif isinstance(value, dict):
            inner: dict[str, Any] | None = None
            for name, item in value.items():
                ids = _referenced(session, item)
                if ids is not None:
                    inner = inner if inner is not None else dict(value)
                    inner[name] = None
                    refs.append([[key, name], ids])
            if inner is not None:
                out = out if out is not None else dict(data)
                out[key] = inner
    if out is None:
        return data
    out[FILES] = refs
    return out


def _referenced(session: Session, value: Any) -> str | list[str] | None:
    """The id(s) ``value`` refers to if it is (a list of) exact references, else None."""
    if isinstance(value, dict):
        return value["id"] if _exact(session, value) else None
    if isinstance(value, list) and value and all(
            isinstance(v, dict) and _exact(session, v) for v in value):
        return [v["id"] for v in value]
    return None


def _exact(session: Session, value: dict[str, Any]) -> bool:
    if tuple(value) != _REFERENCE_KEYS or not isinstance(value["id"], str):
        return False
    known = session.info.get(_AT_HAND, {}).get(value["id"])
    if known is None:
        return False
    # Type by type: True == 1 in Python, but reading back must give what was stored.
    return all(type(a) is type(b) and a == b
               for a, b in zip(value.values(), known.values(), strict=True))


def expand(session: Session, events: Iterable[HistoryEvent]) -> None:
    """Put the documents' facts back into ``events``, one query for all of them.

    The data is set as loaded (not as a change), so the session never writes it back.
    """
    waiting = [(e, e.data) for e in events
               if isinstance(e.data, dict) and (FILES in e.data or _by_reference(e))]
    if not waiting:
        return
    wanted: set[str] = set()
    for _, data in waiting:
        if FILES not in data:
            wanted.add(data["document_id"])
        for _, ids in data.get(FILES, ()):
            wanted.update(ids if isinstance(ids, list) else [ids])
    table: sa.Table = Document.__table__  # type: ignore[assignment]
    rows = {row.id: row for row in session.execute(
        sa.select(table.c.id, table.c.name, table.c.size, table.c.sha256,
                  table.c.content_type, table.c.field).where(table.c.id.in_(wanted)))}
    for event, data in waiting:
        set_committed_value(event, "data", expanded(data, rows))


def _by_reference(event: HistoryEvent) -> bool:
    return event.kind in DOCUMENT_KINDS and len(event.data or ()) == 1 and isinstance(
        (event.data or {}).get("document_id"), str)


def expanded(data: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """``data`` (compact) as recorded; a document with no row keeps only its id."""
    if FILES not in data:  # a document event's
        found = rows.get(data["document_id"])
        return event_facts(found) if found is not None else data
    out = {k: v for k, v in data.items() if k != FILES}

    def value(document_id: str) -> dict[str, Any]:
        found = rows.get(document_id)
        return reference(found) if found is not None else {"id": document_id}

    for path, ids in data[FILES]:
        item = [value(i) for i in ids] if isinstance(ids, list) else value(ids)
        if len(path) == 1:
            out[path[0]] = item
        else:
            out[path[0]] = {**out[path[0]], path[1]: item}
    return out
