"""e-Billing records: the PNBP bills the LSPro issues and their payment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID, Str255
from engine.persistence.packing import CompressedJSON

INVOICE_STATES = ("terbit", "lunas", "kedaluwarsa", "dibatalkan")


class Invoice(Base):
    """One e-Billing code (*kode billing*) for fees owed to the State Treasury.

    ``subject`` is what the bill is for: an application number or, for surveillance,
    a certificate number. ``lines`` are the quote lines of every schedule billed.
    ``ntpn`` (*Nomor Transaksi Penerimaan Negara*) is the state receipt number of
    the payment.
    """

    __tablename__ = "invoice"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('terbit', 'lunas', 'kedaluwarsa', 'dibatalkan')", name="state"),
        sa.Index("ix_invoice_subject_state", "subject", "state"),
    )

    id: Mapped[str] = mapped_column(CompactUUID(), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(15), unique=True)
    subject: Mapped[Str255]
    company: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    schedules: Mapped[str] = mapped_column(sa.String(255))
    # Read whole, never searched: on SQLite compressed (a quarter of its 2.3 KB of
    # bilingual JSON, so four bills share a page where one filled it).
    lines: Mapped[list[dict[str, Any]]] = mapped_column(CompressedJSON(), default=list)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    legal_basis: Mapped[str] = mapped_column(sa.String(64))
    instance_id: Mapped[str | None] = mapped_column(CompactUUID(), index=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    issued_at: Mapped[datetime]
    due_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    paid_on: Mapped[date | None]
    ntpn: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    updated_at: Mapped[datetime]
