"""Users, their roles and companies, API tokens, and failed sign-ins."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.persistence.db import Base, Str255


class User(Base):
    """A person who signs in: staff, or a customer (the customer role) of a company."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[Str255] = mapped_column(unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    company: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # How the user hears of new work by e-mail: "every" (a mail per task), "digest"
    # (one mail a day) or "none" (engine.notifications.preferences).
    notify: Mapped[str] = mapped_column(sa.String(8), default="every", server_default="every")
    # The language of the user's e-mails: "id" or "en".
    language: Mapped[str] = mapped_column(sa.String(8), default="id", server_default="id")
    # The local day of the last daily digest, so a day never gets two.
    digest_sent_on: Mapped[date | None]

    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SignInFailure(Base):
    """A failed sign-in, kept for rate limiting by user name and by address."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        sa.Index("ix_sign_in_failure_username_at", "username", "at"),
        sa.Index("ix_sign_in_failure_address_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[Str255]
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime]
