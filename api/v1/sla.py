"""SLA: breached tasks and each running instance's service clock."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from .. import schemas
from ..context import query, require
from .common import blueprint, documented, page_dict

bp = blueprint("sla", "/sla", "Due-time breaches and service-clock use (staff)")


class Breach(Schema):
    id = fields.Integer()
    task_id = fields.String()
    instance_id = fields.String()
    key = fields.String(attribute="definition_key")
    element = fields.String(attribute="element_id")
    title = fields.String(allow_none=True)
    roles = fields.Method("_roles")
    assignee = fields.String(allow_none=True)
    due_at = fields.DateTime()
    detected_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    escalated_to = fields.String(allow_none=True)

    def _roles(self, breach: Any) -> list[str]:
        return [r for r in str(breach.roles or "").split(",") if r]


class Clock(Schema):
    instance_id = fields.String()
    key = fields.String(attribute="definition_key")
    business_key = fields.String(allow_none=True)
    status = fields.String()
    used_days = fields.Float(metadata={"description": "the organisation's working days used"})
    target_days = fields.Float(allow_none=True)
    remaining_days = fields.Float(allow_none=True)
    running_now = fields.Boolean(metadata={
        "description": "the next action is the organisation's (not an outside party's)"})
    projected_finish = fields.DateTime(allow_none=True)


class SlaArgs(schemas.Paging):
    open = fields.Boolean(load_default=False, metadata={"description": "only breaches not done"})
    role = fields.String(validate=validate.Length(max=64))
    key = fields.String(validate=validate.Length(max=255))


class SlaReport(Schema):
    breaches = fields.Nested(schemas.page_of(Breach, "BreachPage"))
    service_clocks = fields.Nested(schemas.page_of(Clock, "ServiceClockPage"))


@bp.route("", methods=["GET"])
@bp.arguments(SlaArgs, location="query")
@bp.response(200, SlaReport)
@documented(bp, 401, 403)
def report(args: dict[str, Any]) -> Any:
    """Return due-time breaches and, per running instance, its service clock."""
    with query() as (services, actor):
        require(actor, not actor.is_customer, "see SLA figures")
        breaches = services.sla.breaches(open_only=args["open"], role=args.get("role"),
                                         key=args.get("key"), page=args["page"],
                                         per_page=args["per_page"])
        clocks = services.service_clocks.running(key=args.get("key"), page=args["page"],
                                                 per_page=args["per_page"])
        return {"breaches": page_dict(breaches), "service_clocks": page_dict(clocks)}
