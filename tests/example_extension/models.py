"""The order desk's one table, on a metadata of its own (the engine's stays untouched)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from engine.errors import InvalidInput
from engine.time.clock import Clock


class OrderBase(DeclarativeBase):
    pass


class Order(OrderBase):
    __tablename__ = "example_order"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    item: Mapped[str] = mapped_column(sa.String(255))
    quantity: Mapped[int]
    instance_id: Mapped[str] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class OrderBook:
    """The orders, in the command's transaction."""

    def __init__(self, session: Session, clock: Clock, prefix: str) -> None:
        self.session = session
        self.clock = clock
        self.prefix = prefix

    def add(self, *, item: str, quantity: int, instance_id: str) -> str:
        if not item or quantity < 1:
            raise InvalidInput("an order needs an item and a quantity of at least 1",
                               {"barang": "required", "jumlah": "at least 1"})
        count = self.session.scalar(sa.select(sa.func.count()).select_from(Order)) or 0
        number = f"{self.prefix}-{count + 1:04d}"
        self.session.add(Order(number=number, item=item, quantity=quantity,
                               instance_id=instance_id, created_at=self.clock.now()))
        self.session.flush()
        return number

    def all(self) -> list[Order]:
        return list(self.session.scalars(sa.select(Order).order_by(Order.id)))
