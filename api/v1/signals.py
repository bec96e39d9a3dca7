"""Signals from outside: broadcast to every instance that waits for them."""

from __future__ import annotations

from typing import Any

from .. import schemas
from ..context import command, require
from .common import blueprint, documented

bp = blueprint("signals", "/signals", "Broadcast a signal to the instances that wait for it")


@bp.route("", methods=["POST"])
@bp.arguments(schemas.SignalRequest)
@bp.response(200, schemas.SignalResult)
@documented(bp, 400, 401, 403, 422)
def broadcast(body: dict[str, Any]) -> Any:
    """Deliver a signal by name to every instance waiting for it.

    It also starts an instance of every process whose signal start event has
    that name. A signal nobody waits for reaches nothing; that is not an error.
    Staff and systems only.
    """
    with command() as (services, actor):
        require(actor, actor is not None and not actor.is_customer, "send signals")
        reached = services.send_signal(body["name"], body["variables"],
                                       actor=actor.username if actor else None)
    return {"reached": reached}
