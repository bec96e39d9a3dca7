"""The certificate register: SPPT SNI certificates and the history of their states."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID, Str255

CERTIFICATE_STATES = ("aktif", "dibekukan", "dicabut", "ditarik", "kedaluwarsa")


class Certificate(Base):
    """An SPPT SNI (*Sertifikat Produk Penggunaan Tanda SNI*) the LSPro issued.

    ``id`` is an internal identifier that never changes; ``number`` is the printed
    certificate number, which a reissue replaces (the old row is withdrawn and
    points to its successor through ``superseded_by``). ``sequence`` is the client
    registration sequence number (*nomor urut registrasi*) inside the number.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('aktif', 'dibekukan', 'dicabut', 'ditarik', 'kedaluwarsa')",
            name="state",
        ),
        sa.Index("ix_certificate_state_expires", "state", "expires_on"),
    )

    id: Mapped[str] = mapped_column(CompactUUID(), primary_key=True)
    number: Mapped[Str255] = mapped_column(unique=True)
    sequence: Mapped[int] = mapped_column(unique=True)
    company: Mapped[Str255] = mapped_column(index=True)
    product_code: Mapped[str] = mapped_column(sa.String(64))
    product_name: Mapped[Str255]
    sni: Mapped[str] = mapped_column(sa.String(64))
    scheme_type: Mapped[int]
    brands: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    application_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    instance_id: Mapped[str | None] = mapped_column(CompactUUID(), index=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    issued_on: Mapped[date]
    expires_on: Mapped[date]
    handed_over_at: Mapped[datetime | None]
    last_surveillance_on: Mapped[date | None]
    superseded_by: Mapped[str | None] = mapped_column(
        CompactUUID(), sa.ForeignKey("certificate.id"), index=True)
    supersedes: Mapped[str | None] = mapped_column(CompactUUID())
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(64))
    suspension_deadline: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(255))
    revoked_at: Mapped[datetime | None]
    revocation_published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CertificateEvent(Base):
    """One change of a certificate, appended and never changed: who, when, from, to, why."""

    __tablename__ = "certificate_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(
        CompactUUID(), sa.ForeignKey("certificate.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    instance_id: Mapped[str | None] = mapped_column(CompactUUID())
    from_state: Mapped[str | None] = mapped_column(sa.String(16))
    to_state: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
