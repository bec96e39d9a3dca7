"""``/process-definition``: definitions by id or key, and "Start current diagram"."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import Forbidden
from engine.models import ProcessDefinition

from ..v1.definitions import may_start
from .arguments import json_body, paging
from .auth import signed_in, signed_in_to_read
from .blueprint import bp
from .errors import BadRequest
from .shapes import definition_dict, instance_dict
from .variables import typed_variables


@bp.route("/process-definition", methods=["GET"])
def list_definitions() -> Any:
    """Process definitions, filtered by ``key``, ``deploymentId``, ``latestVersion``."""
    first, limit = paging()
    with signed_in_to_read() as (services, _):
        latest = request.args.get("latestVersion", "false").lower() == "true"
        found = services.deployments.definitions(key=request.args.get("key"), latest=latest)
        if request.args.get("deploymentId"):
            found = [d for d in found if d.deployment_id == request.args["deploymentId"]]
        found = found[first:] if limit is None else found[first:first + limit]
        return [definition_dict(d) for d in found]


@bp.route("/process-definition/key/<key>", methods=["GET"])
def get_definition_by_key(key: str) -> Any:
    with signed_in_to_read() as (services, _):
        return definition_dict(services.deployments.latest(key))


@bp.route("/process-definition/<definition_id>", methods=["GET"])
def get_definition(definition_id: str) -> Any:
    with signed_in_to_read() as (services, _):
        return definition_dict(services.deployments.get(definition_id))


@bp.route("/process-definition/<definition_id>/start", methods=["POST"])
def start(definition_id: str) -> Any:
    """Start exactly this version (the id as sertiflow gives it, ``key:version:hash``)."""
    return _start(lambda services: services.deployments.get(definition_id))


@bp.route("/process-definition/key/<key>/start", methods=["POST"])
def start_by_key(key: str) -> Any:
    """Start the latest version of ``key``."""
    return _start(lambda services: services.deployments.latest(key))


def _start(find: Any) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    variables = typed_variables(body.get("variables"))
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise BadRequest("businessKey must be a string")
    with signed_in() as (services, actor):
        definition: ProcessDefinition = find(services)
        if not may_start(actor, services, definition):
            raise Forbidden(f"you may not start {definition.key}")
        started = services.start_instance(
            definition.key, definition_id=definition.id, variables=variables,
            business_key=business_key or None, actor=actor.username,
            company=actor.company if actor.is_customer else None)
        return instance_dict(started)
