"""Who may see a document: its visibility, decided by its kind.

A document's *kind* is the form field it was uploaded through (a Camunda Form
``filepicker`` key) or the field a generated document was stored under. An
extension names, in one table, which kinds its customers may see
(``Setup.document_visibility``); every other kind takes the table's default.
Staff see every document of the instances they see. A customer sees the
customer kinds and, whatever their kind, the documents a customer uploaded
(their own company's, since they only see their company's instances).

The rule is here, in the engine, so the REST API and the pages apply the same
one; a customer asking for a document they may not see is told it does not
exist (:class:`~engine.errors.NotFound`), so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.identity.access import CUSTOMER as CUSTOMER_ROLE
from engine.identity.access import Actor
from engine.models import Document, User, UserRole

#: Staff only.
INTERNAL: Final = "internal"
#: Staff and the customer whose instance it belongs to.
CUSTOMER: Final = "customer"
VISIBILITIES: Final = (INTERNAL, CUSTOMER)


@dataclass(frozen=True)
class VisibilityTable:
    """Document kind -> visibility, with the visibility of kinds not named.

    Without an extension's table every document is the customer's to see, as a
    plain BPMN service has no notion of internal papers.
    """

    kinds: Mapping[str, str] = field(default_factory=dict)
    default: str = CUSTOMER

    def __post_init__(self) -> None:
        wrong = sorted({v for v in self.kinds.values() if v not in VISIBILITIES}
                       | ({self.default} - set(VISIBILITIES)))
        if wrong:
            raise ValueError(f"unknown document visibility {', '.join(wrong)} "
                             f"(known: {', '.join(VISIBILITIES)})")

    def of(self, kind: str | None) -> str:
        """The visibility of documents of ``kind`` (None: attached without a field)."""
        if kind is None:
            return self.default
        return self.kinds.get(kind, self.default)


def customer_uploaders(session: Session, documents: Iterable[Document]) -> set[str]:
    """The names among the documents' uploaders that belong to customers."""
    names = {d.uploaded_by for d in documents if d.uploaded_by}
    if not names:
        return set()
    found = session.scalars(
        sa.select(User.username).join(UserRole, UserRole.user_id == User.id)
        .where(User.username.in_(names), UserRole.role == CUSTOMER_ROLE))
    return set(found)


def visible(actor: Actor, document: Document, table: VisibilityTable,
            uploaders: set[str]) -> bool:
    """Whether ``actor`` (who sees the document's instance) may see the document.

    ``uploaders`` are the customers among the uploaders (:func:`customer_uploaders`).
    """
    if not actor.is_customer:
        return True
    if document.uploaded_by and document.uploaded_by in uploaders:
        return True  # a customer's own upload
    return table.of(document.field) == CUSTOMER


def refers_to(value: Any, document_ids: set[str]) -> bool:
    """Whether a variable's value is, or holds a reference to, one of the documents
    (a document id, a form file field's ``{"id": ...}``, or a list of these)."""
    if isinstance(value, str):
        return value in document_ids
    if isinstance(value, dict):
        return value.get("id") in document_ids
    if isinstance(value, list):
        return any(refers_to(item, document_ids) for item in value)
    return False
