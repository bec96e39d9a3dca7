"""Who sat on the panel (Tim Teknis / Tim Pengkaji) of an application."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, CompactUUID, Str255

PANEL_KINDS = ("original", "appeal")
PANEL_SOURCES = ("declared", "completed")


class PanelMember(Base):
    """One user on the original or the appeal panel of an application.

    ``source`` says how we know: ``declared`` (named when the meeting was
    prepared) or ``completed`` (completed the panel's task in the engine).
    """

    __tablename__ = "panel_member"
    __table_args__ = (
        sa.UniqueConstraint("application_number", "kind", "username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    application_number: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    username: Mapped[Str255]
    source: Mapped[str] = mapped_column(sa.String(16))
    instance_id: Mapped[str | None] = mapped_column(CompactUUID())
    recorded_at: Mapped[datetime]
