"""Running numbers: case numbers, certificate and letter numbers."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.db import Base, Str255


class Sequence(Base):
    """The last number handed out for ``name`` in ``year`` (0: a sequence that never resets)."""

    __tablename__ = "number_sequence"

    name: Mapped[Str255] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)
