"""BPMN data stores: values that outlive the instances that read and write them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID, Str255


class DataStoreEntry(Base):
    """The value of the data store ``name``, shared by every instance of every process.

    ``value`` is the value as the instance state's serializer writes it (dates
    stay dates), None for a store read but never written; ``updated_by`` is the
    instance whose task wrote it last.
    """

    __tablename__ = "data_store_entry"

    name: Mapped[Str255] = mapped_column(primary_key=True)
    value: Mapped[str | None] = mapped_column(sa.Text())
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(CompactUUID())
    element_id: Mapped[str | None] = mapped_column(sa.String(255))
