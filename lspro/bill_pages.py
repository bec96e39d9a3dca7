"""The staff's list of e-Billing bills: which are unpaid, overdue, paid, expired, cancelled.

For the administration (who records payments) and admins: filter by state, company
and overdue; each bill links to its application's instance and, while it is unpaid
and the instance waits for the payment notice, to recording that payment with the
message's form (api/web/messages.py). A customer has no such list (404): their
bills are on their own page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from api.context import engine
from api.web.layout import page_arg, page_count
from api.web.session import reading
from engine.errors import NotFound
from engine.identity.access import Actor
from engine.queries.lists import Page, page_bounds
from lspro.models import INVOICE_STATES, Invoice
from lspro.pages import bp

PER_PAGE = 25
# The roles that handle the bills: the administration, and the receipts treasurer
# (keuangan) who records payments (DOMAIN.md, e-Billing).
BILL_ROLES = ("administrasi", "keuangan")
# The message a bill's payment notice is (processes/CONTRACT.md).
PAYMENT_MESSAGE = "pembayaran_diterima"


def may_see_bills(actor: Actor) -> bool:
    return not actor.is_customer and (actor.is_admin or bool(actor.roles & set(BILL_ROLES)))


@dataclass(frozen=True)
class BillFilter:
    state: str | None = None
    company: str | None = None
    overdue: bool = False


def bill_list(session: Session, now: datetime, chosen: BillFilter, *, page: int = 1,
              per_page: int = PER_PAGE) -> Page[Invoice]:
    """Bills as chosen: overdue ones by their deadline (the oldest first), others newest first."""
    offset, limit = page_bounds(page, per_page)
    where: list[sa.ColumnElement[bool]] = []
    if chosen.state is not None:
        where.append(Invoice.state == chosen.state)
    if chosen.company:
        text = chosen.company.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_")
        where.append(sa.func.lower(Invoice.company).like(f"%{text}%", escape="\\"))
    order: tuple[Any, ...] = (Invoice.issued_at.desc(), Invoice.id)
    if chosen.overdue:
        where += [Invoice.state == "terbit", Invoice.due_at < now]
        order = (Invoice.due_at, Invoice.id)
    total = session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(*where)) or 0
    items = list(session.scalars(sa.select(Invoice).where(*where).order_by(*order)
                                 .offset(offset).limit(limit)))
    return Page(items, int(total), page, per_page)


@bp.get("/bills")
def bill_list_page() -> ResponseReturnValue:
    state = request.args.get("state") if request.args.get("state") in INVOICE_STATES else None
    company = (request.args.get("company") or "").strip()[:255] or None
    overdue = request.args.get("overdue") == "1"
    with reading() as (services, actor):
        if not may_see_bills(actor):
            raise NotFound("no such page")
        now = engine().clock.now()
        page = bill_list(services.session, now, BillFilter(state, company, overdue),
                         page=page_arg())
        waiting = services.queries.awaited_messages_of(
            [b.instance_id for b in page.items if b.instance_id and b.state == "terbit"])
        payable = {instance_id for instance_id, names in waiting.items()
                   if PAYMENT_MESSAGE in names}
        return render_template(
            "lspro/bills.html", page=page, states=INVOICE_STATES, state=state,
            company=company or "", overdue=overdue, now=now, payable=payable,
            message=PAYMENT_MESSAGE, pages=page_count(page.total, PER_PAGE))
