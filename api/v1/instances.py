"""Process instances: list, look at, history, set variables, suspend, resume, cancel."""

from __future__ import annotations

from typing import Any

from .. import incident_view, schemas
from ..context import command, query, require
from .common import Extended, blueprint, documented, page_dict

bp = blueprint("instances", "/process-instances", "Running and finished process instances")


@bp.route("", methods=["GET"])
@bp.arguments(schemas.InstanceArgs, location="query")
@bp.response(200, schemas.page_of(schemas.Instance, "InstancePage"))
@documented(bp, 401)
def list_instances(args: dict[str, Any]) -> Any:
    """List the instances the caller may see (a customer: their company's)."""
    with query() as (services, actor):
        return page_dict(services.queries.instances(
            actor, status=args.get("status"), key=args.get("key"),
            business_key=args.get("business_key"), search=args.get("q"), page=args["page"],
            per_page=args["per_page"]))


@bp.route("/<instance_id>", methods=["GET"])
@bp.response(200, schemas.InstanceDetail)
@documented(bp, 401, 404)
def get_instance(instance_id: str) -> Any:
    """Return an instance with its variables, open tasks, timers and incidents."""
    return _detail(instance_id)


def _detail(instance_id: str) -> Any:
    with query() as (services, actor):
        instance = services.queries.instance(actor, instance_id)
        tasks = services.queries.open_tasks_seen_by(actor, instance.id)
        return Extended(
            instance,
            variables=services.runtime.variables(instance) if not actor.is_customer else {},
            tasks=tasks,
            timers=services.queries.instance_timers(instance.id),
            incidents=incident_view.incidents_for(
                actor, services.queries.incidents(instance_id=instance.id, status=None,
                                                  per_page=200).items,
                incident_view.api_language()),
            active_elements=services.runtime.active_elements(instance))


@bp.route("/<instance_id>/history", methods=["GET"])
@bp.arguments(schemas.Paging, location="query")
@bp.response(200, schemas.page_of(schemas.HistoryEvent, "HistoryPage"))
@documented(bp, 401, 404)
def history(args: dict[str, Any], instance_id: str) -> Any:
    """Return the instance's audit history, oldest first.

    A customer is not shown the upload of a document they may not see (an internal
    paper): the event is left out of its page.
    """
    with query() as (services, actor):
        page = services.queries.history(actor, instance_id, page=args["page"],
                                        per_page=args["per_page"])
        items = page.items
        if actor.is_customer:
            every = services.documents.list_for_instance(instance_id)
            hidden = {d.id for d in every} - {
                d.id for d in services.documents.visible_to(actor, every)}
            items = [e for e in items
                     if not (isinstance(e.data, dict) and e.data.get("document_id") in hidden)]
        return {**page_dict(page), "items": incident_view.history_for(
            actor, items, incident_view.api_language())}


@bp.route("/<instance_id>/variables", methods=["POST"])
@bp.arguments(schemas.VariablesRequest)
@bp.response(200, schemas.InstanceDetail)
@documented(bp, 400, 401, 403, 404, 409, 422)
def set_variables(body: dict[str, Any], instance_id: str) -> Any:
    """Set and delete variables of a running instance (admin), as Camunda's setVariables.

    Every open part of the instance sees them (embedded and event subprocesses
    too, called processes not); conditional events that listen to the change are
    evaluated, and the instance runs on to its next wait. Answers the instance as
    it is then.
    """
    with command() as (services, actor):
        actor = require(actor, actor is not None and actor.is_admin,
                        "set variables of instances")
        services.queries.instance(actor, instance_id)
        services.runtime.set_variables(instance_id, body["variables"],
                                       deletions=body["deletions"], actor=actor.username)
    return _detail(instance_id)


def _admin_command(instance_id: str, what: str, reason: str | None = None) -> Any:
    with command() as (services, actor):
        actor = require(actor, actor is not None and actor.is_admin, f"{what} instances")
        services.queries.instance(actor, instance_id)
        runtime = services.runtime
        if what == "suspend":
            runtime.suspend(instance_id, actor=actor.username, reason=reason)
        elif what == "resume":
            runtime.resume(instance_id, actor=actor.username, reason=reason)
        else:
            runtime.cancel(instance_id, actor=actor.username, reason=reason)
    with query() as (services, actor):
        return services.queries.instance(actor, instance_id)


# The reason is optional here: the API's callers are other systems and scripts, which
# may have none to give, and clients written before it existed send no body. The
# pages, where a person decides, require one.
@bp.route("/<instance_id>/suspend", methods=["POST"])
@bp.arguments(schemas.CancelRequest)
@bp.response(200, schemas.Instance)
@documented(bp, 400, 401, 403, 404, 409)
def suspend(body: dict[str, Any], instance_id: str) -> Any:
    """Suspend a running instance: no task can be completed, no timer fires (admin).

    An optional ``reason`` is kept in the instance's history.
    """
    return _admin_command(instance_id, "suspend", body.get("reason"))


@bp.route("/<instance_id>/resume", methods=["POST"])
@bp.arguments(schemas.CancelRequest)
@bp.response(200, schemas.Instance)
@documented(bp, 400, 401, 403, 404, 409)
def resume(body: dict[str, Any], instance_id: str) -> Any:
    """Resume a suspended instance; overdue timers fire on the next sweep (admin).

    An optional ``reason`` is kept in the instance's history.
    """
    return _admin_command(instance_id, "resume", body.get("reason"))


@bp.route("/<instance_id>/cancel", methods=["POST"])
@bp.arguments(schemas.CancelRequest)
@bp.response(200, schemas.Instance)
@documented(bp, 400, 401, 403, 404, 409)
def cancel(body: dict[str, Any], instance_id: str) -> Any:
    """Cancel an instance and its open tasks (admin)."""
    return _admin_command(instance_id, "cancel", body.get("reason"))
