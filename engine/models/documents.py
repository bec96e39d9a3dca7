"""Documents uploaded to an instance (application documents, audit reports, NCR sheets)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, Str36, Str255


class Document(Base):
    """A file linked to an instance (and the task it was given for); the bytes live outside
    the database, addressed by their SHA-256."""

    __tablename__ = "document"

    id: Mapped[Str36] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    field: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[Str255]
    content_type: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    uploaded_by: Mapped[str | None] = mapped_column(sa.String(255))
    uploaded_at: Mapped[datetime]
