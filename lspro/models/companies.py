"""A customer company's profile: legal identity, contact, factories, makloon partner.

Keyed by the company name the engine stores on the customer's user and on each
instance (``app_user.company``, ``process_instance.company``), so a customer
reaches exactly their own profile, as every other list of theirs is scoped.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.persistence.db import Base, Str255


class CompanyProfile(Base):
    """What the letters and the certificate say about a company."""

    __tablename__ = "company_profile"

    company: Mapped[Str255] = mapped_column(primary_key=True)
    legal_name: Mapped[Str255]
    npwp: Mapped[str] = mapped_column(sa.String(16))  # 15 or 16 digits, no punctuation
    nib: Mapped[str] = mapped_column(sa.String(13))
    address: Mapped[str] = mapped_column(sa.String(1000))
    contact_name: Mapped[Str255]
    contact_phone: Mapped[str] = mapped_column(sa.String(32))
    contact_email: Mapped[Str255]
    makloon_name: Mapped[str | None] = mapped_column(sa.String(255))
    makloon_address: Mapped[str | None] = mapped_column(sa.String(1000))
    updated_at: Mapped[datetime]
    updated_by: Mapped[Str255]

    factories: Mapped[list[CompanyFactory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CompanyFactory.position")


class CompanyFactory(Base):
    """One factory (production site) of a company, in the order the company lists them."""

    __tablename__ = "company_factory"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    company: Mapped[Str255] = mapped_column(
        sa.ForeignKey("company_profile.company", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[Str255]
    address: Mapped[str] = mapped_column(sa.String(1000))
