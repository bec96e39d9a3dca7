"""The audit history: an append-only record of every change to an instance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUTCDateTime, CompactUUID


class HistoryEvent(Base):
    """Who did what to which instance and element, when, and which data changed."""

    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(CompactUTCDateTime())
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(32))
    element_id: Mapped[str | None] = mapped_column(sa.String(255))
    task_id: Mapped[str | None] = mapped_column(CompactUUID())
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class HistoryValue(Base):
    """A large value of an instance's history, stored once however often it is recorded.

    Events refer to it by ``hash`` (see :mod:`engine.queries.history_values`).
    """

    __tablename__ = "history_value"

    instance_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    #: SHA-256 (hex) of the value's JSON text.
    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: Bytes of the JSON text before compression.
    size: Mapped[int]
    #: The JSON text, zlib-compressed.
    value: Mapped[bytes] = mapped_column(sa.LargeBinary)
