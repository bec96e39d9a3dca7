"""Documents of an instance (application documents, audit reports, NCR sheets, the
letters the server makes) and the queue of generated documents still to be rendered."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import (
    Base,
    CompactDigest,
    CompactUTCDateTime,
    CompactUUID,
    Str255,
)
from engine.persistence.packing import CodedText

#: The content types stored as a byte on SQLite (CodedText): those the upload accepts
#: (engine.documents.accepted_types) and the generated documents'. Add at the end only.
CONTENT_TYPES = (
    "application/pdf", "text/html", "image/png", "image/jpeg", "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword", "application/vnd.ms-excel", "text/plain", "text/csv",
)


class Document(Base):
    """A file linked to an instance (and the task it was given for); the bytes live outside
    the database, addressed by their SHA-256.

    A generated document whose file is still to be rendered (:class:`DocumentRender`)
    has no ``size`` and no ``sha256`` yet: :attr:`ready` is false.
    """

    __tablename__ = "document"

    id: Mapped[str] = mapped_column(CompactUUID(), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(CompactUUID())
    field: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[Str255]
    content_type: Mapped[str] = mapped_column(CodedText(CONTENT_TYPES, 255))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    sha256: Mapped[str | None] = mapped_column(CompactDigest())
    uploaded_by: Mapped[str | None] = mapped_column(sa.String(255))
    uploaded_at: Mapped[datetime] = mapped_column(CompactUTCDateTime())

    @property
    def ready(self) -> bool:
        """Whether the file exists (a generated document may still be rendering)."""
        return self.sha256 is not None


class DocumentRender(Base):
    """A generated document whose file is still to be made, with the input that fixes
    what it says (frozen by the command that made it) and its attempts so far."""

    __tablename__ = "document_render"

    document_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[str] = mapped_column(CompactUUID())
    #: The name an extension registered the renderer under (``Setup.renderer``).
    renderer: Mapped[str] = mapped_column(sa.String(64))
    input: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_by: Mapped[str | None] = mapped_column(sa.String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: When the queue tries next; null once the attempts ran out (an incident is open).
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    #: A renderer at work holds the row until then, under the random ``claim``.
    claimed_until: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(CompactUUID())
    incident_id: Mapped[int | None]
