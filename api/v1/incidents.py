"""Incidents: failures inside instances, their retry (admin), and their fix by the
people of the step when the cause is a variable's value (``api.incident_view``)."""

from __future__ import annotations

from typing import Any

from .. import incident_view, schemas
from ..context import command, query, require
from .common import blueprint, documented, page_dict

bp = blueprint("incidents", "/incidents", "Failed scripts, conditions and service handlers")


@bp.route("", methods=["GET"])
@bp.arguments(schemas.IncidentArgs, location="query")
@bp.response(200, schemas.page_of(schemas.Incident, "IncidentPage"))
@documented(bp, 401, 403)
def list_incidents(args: dict[str, Any]) -> Any:
    """List incidents (open ones unless ``status=resolved``); admin only."""
    with query() as (services, actor):
        require(actor, actor.is_admin, "see incidents")
        return page_dict(services.queries.incidents(
            instance_id=args.get("instance_id"), status=args["status"], page=args["page"],
            per_page=args["per_page"]))


@bp.route("/<int:incident_id>/retry", methods=["POST"])
@bp.arguments(schemas.RetryRequest)
@bp.response(200, schemas.Incident)
@documented(bp, 400, 401, 403, 404, 409, 422)
def retry(body: dict[str, Any], incident_id: int) -> Any:
    """Run the failed element again, after merging corrected variables (admin)."""
    with command() as (services, actor):
        actor = require(actor, actor is not None and actor.is_admin, "retry incidents")
        services.runtime.retry_incident(incident_id, actor=actor.username,
                                        variables=body["variables"])
    with query() as (services, _actor):
        return services.queries.incident(incident_id)


@bp.route("/<int:incident_id>/fix", methods=["POST"])
@bp.arguments(schemas.RetryRequest)
@bp.response(200, schemas.Incident)
@documented(bp, 400, 401, 403, 404, 409, 422)
def fix(body: dict[str, Any], incident_id: int) -> Any:
    """Set the variables whose values the failed step refused and run it again.

    Only the variables the step named, each of its current value's type; staff of
    the step's role (its lane, or the role recording the message it follows) and
    admins may. Recorded in the history with who did it.
    """
    with command() as (services, actor):
        actor = require(actor, actor is not None and not actor.is_customer, "fix incidents")
        _instance, fields = incident_view.fixable(services, actor, incident_id)
        values = incident_view.check_fix(fields, body["variables"], admin=actor.is_admin)
        services.runtime.retry_incident(incident_id, actor=actor.username, variables=values)
    with query() as (services, _actor):
        return services.queries.incident(incident_id)
