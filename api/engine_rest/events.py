"""Events from outside: Camunda's message correlation (``/message``), signal broadcast
(``/signal``) and condition evaluation (``/condition``)."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine.errors import Forbidden

from ..v1.definitions import may_start
from .arguments import json_body
from .auth import signed_in
from .blueprint import bp
from .errors import BadRequest
from .shapes import instance_dict
from .variables import typed_variables


@bp.route("/message", methods=["POST"])
def message() -> Any:
    """Camunda's message correlation: ``messageName``, ``businessKey``,
    ``processInstanceId``, ``processVariables``; 204, or the instance with
    ``resultEnabled``."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("messageName"), str):
        raise BadRequest("the body must be a JSON object with a messageName")
    variables = typed_variables(body.get("processVariables"))
    with signed_in() as (services, actor):
        if actor.is_customer:
            raise Forbidden("customers may not send messages")
        instance = services.send_message(
            body["messageName"], variables, business_key=body.get("businessKey"),
            instance_id=body.get("processInstanceId"), actor=actor.username)
    if body.get("resultEnabled"):
        return [{"resultType": "Execution",
                 "processInstance": {"id": instance.id, "definitionId": instance.definition_id,
                                     "businessKey": instance.business_key}}]
    return Response(status=204)


@bp.route("/signal", methods=["POST"])
def signal() -> Any:
    """Camunda's signal broadcast: ``name`` and ``variables``; 204."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise BadRequest("the body must be a JSON object with a name")
    variables = typed_variables(body.get("variables"))
    with signed_in() as (services, actor):
        if actor.is_customer:
            raise Forbidden("customers may not send signals")
        services.send_signal(body["name"], variables, actor=actor.username)
    return Response(status=204)


@bp.route("/condition", methods=["POST"])
def evaluate_conditions() -> Any:
    """Camunda's condition evaluation: start every process whose conditional start
    event holds on ``variables`` (``businessKey``, ``processDefinitionId``); answers
    the instances started."""
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    if body.get("tenantId"):
        raise BadRequest("sertiflow has no tenants: leave tenantId out")
    variables = typed_variables(body.get("variables"))
    business_key = body.get("businessKey")
    definition_id = body.get("processDefinitionId")
    if business_key is not None and not isinstance(business_key, str):
        raise BadRequest("businessKey must be a string")
    if definition_id is not None and not isinstance(definition_id, str):
        raise BadRequest("processDefinitionId must be a string")
    with signed_in() as (services, actor):
        started = services.runtime.start_by_conditions(
            variables, business_key=business_key or None, definition_id=definition_id,
            actor=actor.username, company=actor.company if actor.is_customer else None,
            may_start=lambda definition: may_start(actor, services, definition))
        return [instance_dict(row) for row in started]
