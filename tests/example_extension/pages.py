"""The order desk's page: every order, in the engine's layout, for signed-in staff."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from api.web import page_blueprint
from api.web.session import reading
from engine.errors import Forbidden

from .models import OrderBook

bp = page_blueprint("example", __name__, template_folder="templates")


@bp.get("/orders")
def orders() -> ResponseReturnValue:
    with reading() as (services, actor):
        if actor.is_customer:
            raise Forbidden("the order list is for staff")
        return render_template("example/orders.html", orders=services.get(OrderBook).all())
