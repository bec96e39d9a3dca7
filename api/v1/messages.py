"""Messages from outside (payment confirmed, Ministry clarification arrived)."""

from __future__ import annotations

from typing import Any

from .. import schemas
from ..context import command, query, require
from .common import blueprint, documented

bp = blueprint("messages", "/messages", "Correlate a message to the instance that waits for it")


@bp.route("", methods=["POST"])
@bp.arguments(schemas.MessageRequest)
@bp.response(200, schemas.MessageResult)
@documented(bp, 400, 401, 403, 404, 409, 422)
def correlate(body: dict[str, Any]) -> Any:
    """Deliver a message by name to the instance with the business key or id given.

    Staff and systems only; a message may also start a process with a message start event.
    When a form with the message's name is deployed, the variables are checked against
    it (422 per field) and only its fields reach the process.
    """
    with command() as (services, actor):
        require(actor, actor is not None and not actor.is_customer, "send messages")
        instance = services.send_message(
            body["name"], body["variables"], business_key=body.get("business_key"),
            instance_id=body.get("instance_id"), actor=actor.username if actor else None)
    with query() as (services, actor):
        return {"instance": services.queries.instance(actor, instance.id)}
