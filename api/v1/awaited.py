"""Awaited messages: the messages instances wait for that staff record, as work.

A separate list rather than a kind of task: an awaited message is recorded with
``POST /api/v1/messages`` (its form is the message's), not claimed or completed
like a task, so clients of ``GET /api/v1/tasks`` keep seeing only tasks they can
complete. Who records a message is the catching element's ``recordedBy``
property (``engine.queries.awaited``); an admin sees every one, a customer none.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from .. import schemas
from ..context import query, require
from .common import blueprint, documented, page_dict

bp = blueprint("awaited", "/awaited-messages",
               "Messages instances wait for that staff record (payments, reports, letters)")


class AwaitedArgs(schemas.Paging):
    role = fields.String(metadata={"description": "only the messages this role records"})


class AwaitedMessage(Schema):
    instance_id = fields.String()
    message = fields.String(metadata={"description": "the message's name; its form's id"})
    element_id = fields.String(metadata={"description": "the BPMN element that waits"})
    label = fields.String(metadata={"description": "the waiting element's name"})
    role = fields.String(metadata={"description": "the role that records it (recordedBy)"})
    key = fields.String(attribute="definition_key")
    business_key = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    waiting_since = fields.DateTime()
    deadline = fields.DateTime(allow_none=True, metadata={
        "description": "when a timer racing the message fires, if one does"})


@bp.route("", methods=["GET"])
@bp.arguments(AwaitedArgs, location="query")
@bp.response(200, schemas.page_of(AwaitedMessage, "AwaitedMessagePage"))
@documented(bp, 401, 403, 422)
def list_awaited(args: dict[str, Any]) -> Any:
    """The messages the caller's roles record, earliest deadline first (staff only)."""
    with query() as (services, actor):
        require(actor, not actor.is_customer, "see awaited messages")
        return page_dict(services.awaited.list(actor, **args))
