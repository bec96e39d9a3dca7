"""A second extension, to prove the seam: a small purchase-order desk, no LSPro.

It brings what an organisation's extension brings, and nothing of the LSPro:

- a topic, ``order.register``, that numbers an order and keeps it in
- its own table, ``example_order``, on its own metadata and created by its own
  Alembic branch (``example``, rooted on the engine's first revision);
- its own role, ``gudang`` (the warehouse), escalating to ``admin``;
- its own page, ``/orders``, in the engine's layout, and its words.

``tests/test_example_extension.py`` runs it through the CLI, the REST API and
the pages without the LSPro's extension.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.extensions import Setup
from engine.runtime.handlers import context_of
from engine.runtime.service_call import ServiceCall

from .models import OrderBook

MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


class OrderDesk:
    name = "example-orders"

    def __init__(self, prefix: str = "PO") -> None:
        self.prefix = prefix

    def register(self, setup: Setup) -> None:
        from .pages import bp

        setup.provide(self)
        setup.topic("order.register", register_order)
        setup.service(OrderBook, lambda services: OrderBook(
            services.session, services.engine.clock, self.prefix))
        setup.roles("gudang")
        setup.escalate("gudang", "admin")
        setup.migrations(MIGRATIONS)
        setup.pages(bp)
        setup.words({"nav.orders": ("Pesanan", "Orders"),
                     "orders.title": ("Daftar pesanan", "Orders"),
                     "orders.none": ("Belum ada pesanan.", "No orders yet.")})
        setup.nav("nav.orders", "example.orders")


def register_order(call: ServiceCall) -> Mapping[str, Any]:
    """``order.register``: keep the order the process carries; returns its number."""
    context = context_of(call)
    number = context.service(OrderBook).add(
        item=str(call.variables.get("barang") or ""),
        quantity=int(call.variables.get("jumlah") or 0),
        instance_id=context.instance_id)
    return {"nomor_pesanan": number}


def extension(environ: Mapping[str, str] | None = None) -> OrderDesk:
    """The factory ``SERTIFLOW_EXTENSIONS=tests.example_extension:extension`` names."""
    return OrderDesk(prefix=(environ or {}).get("EXAMPLE_ORDER_PREFIX", "PO"))
