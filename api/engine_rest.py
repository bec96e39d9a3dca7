"""The part of Camunda 7's REST API that Camunda Modeler uses, at ``/engine-rest``.

The Modeler's "Deploy current diagram" and "Start current diagram" speak to a
Camunda 7 engine: a version and connection check, ``deployment/create`` and
``process-definition/{id}/start``. This blueprint answers them in Camunda's
shapes and hands the work to sertiflow's own services (the same deployment and
start as ``/api/v1``). Errors here are Camunda's ``{"type", "message"}`` in
``application/json``, not problem+json, because that is what the Modeler reads.

It is a plain Flask blueprint, so none of it appears in the ``/api/v1`` OpenAPI
document. Credentials: HTTP Basic (a sertiflow user name and password, with the
sign-in rate limit) or a sertiflow bearer token; without either the answer is 401.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from engine.composition import Services
from engine.deployment.service import DeploymentResult
from engine.errors import (
    DeploymentRejected,
    EngineError,
    Forbidden,
    InvalidInput,
    TooManyAttempts,
    Unauthenticated,
)
from engine.identity.access import Actor
from engine.models import Deployment, ProcessDefinition

from . import jsonio
from .context import engine
from .errors import mapping_for
from .v1.definitions import may_start

log = logging.getLogger(__name__)

bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")

# The Camunda 7 version the Modeler is told it talks to.
CAMUNDA_VERSION = "7.21.0"
REALM = 'Basic realm="sertiflow"'

class BadRequest(InvalidInput):
    """A request this endpoint family cannot take (400 InvalidRequestException)."""


# -- errors ---------------------------------------------------------------------


def camunda_error(status: int, kind: str, message: str, *,
                  headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": kind, "message": message, "code": None}
    body.update(extra)
    response = Response(jsonio.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = REALM
    return response


PARSE_ERROR_PREFIX = "ENGINE-09005 Could not parse BPMN process."


def _engine_error(exc: EngineError) -> Response:
    row = mapping_for(exc)
    status, kind = row.camunda_status, row.camunda_type
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    message = exc.message
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, InvalidInput) and exc.errors:
        message += ": " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    if isinstance(exc, DeploymentRejected):
        # Camunda's parse-error code: the Modeler recognises the prefix and shows
        # "Server could not parse the diagram" with this message as the problems.
        message = (f"{PARSE_ERROR_PREFIX} Errors: "
                   + "; ".join(str(p) for p in exc.problems))
        details: dict[str, Any] = {}
        for p in exc.problems:
            found = details.setdefault(p.file, {"errors": [], "warnings": []})
            found["errors"].append({
                "message": p.message, "line": p.line, "column": None,
                "mainElementId": p.element, "elementIds": [p.element] if p.element else [],
            })
        extra["details"] = details
    return camunda_error(status, kind, message, headers=headers, **extra)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    kind = "InvalidRequestException" if status < 500 else "ProcessEngineException"
    headers: dict[str, str] = {}
    allow = exc.get_response().headers.get("Allow") if status == 405 else None
    if allow:
        headers["Allow"] = allow
    return camunda_error(status, kind, exc.description or exc.name, headers=headers)


def _unexpected_error(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return camunda_error(500, "ProcessEngineException",
                         "internal server error; it has been logged")


# Blueprint handlers come before the app's problem+json ones for these routes.
bp.register_error_handler(EngineError, _engine_error)
bp.register_error_handler(HTTPException, _http_error)
bp.register_error_handler(Exception, _unexpected_error)


# -- credentials and transactions -------------------------------------------------


def _actor(services: Services) -> Actor:
    """Who sends this request: HTTP Basic or a sertiflow bearer token."""
    auth = request.authorization
    if auth is None:
        raise Unauthenticated("sign in: choose 'HTTP Basic' in the Modeler's endpoint "
                              "configuration and give a sertiflow user name and password")
    if auth.type == "basic":
        user = services.identity.authenticate(auth.username or "", auth.password or "",
                                              remote_addr=request.remote_addr)
        return Actor(user.username, user.role_names, user.company)
    if auth.type == "bearer" and auth.token:
        return services.identity.actor_for_token(auth.token.strip())
    raise Unauthenticated("send HTTP Basic credentials or 'Authorization: Bearer <token>'")


@contextmanager
def signed_in() -> Iterator[tuple[Services, Actor]]:
    """One write transaction for the request, with its actor.

    A failed sign-in is committed (the rate limit counts it) before the refusal
    is raised, after the block.
    """
    refusal: EngineError | None = None
    with engine().write() as services:
        try:
            actor = _actor(services)
        except (Unauthenticated, TooManyAttempts) as exc:
            refusal = exc
        else:
            yield services, actor
    if refusal is not None:
        raise refusal


# -- shapes ---------------------------------------------------------------------


def camunda_time(moment: datetime | None) -> str | None:
    """Camunda's date format, ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" \
        + moment.strftime("%z")


def deployment_dict(row: Deployment) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "source": row.source,
            "deploymentTime": camunda_time(row.deployed_at), "tenantId": None, "links": []}


_NAMESPACE = re.compile(r'targetNamespace\s*=\s*"([^"]*)"')


def definition_dict(row: ProcessDefinition) -> dict[str, Any]:
    namespace = _NAMESPACE.search(row.bpmn_xml or "")
    return {
        "id": row.id, "key": row.key, "category": namespace.group(1) if namespace else None,
        "description": None, "name": row.name, "version": row.version,
        "resource": row.resource_name, "deploymentId": row.deployment_id, "diagram": None,
        "suspended": False, "tenantId": None, "versionTag": None,
        "historyTimeToLive": None, "startableInTasklist": True,
    }


# -- routes -----------------------------------------------------------------------


@bp.route("/version", methods=["GET"])
def version() -> Any:
    """The Camunda 7 version the Modeler checks (it gives nothing else away)."""
    return {"version": CAMUNDA_VERSION}


def _paging() -> tuple[int, int | None]:
    try:
        first = int(request.args.get("firstResult", "0"))
        most = request.args.get("maxResults")
        limit = int(most) if most is not None else None
    except ValueError as exc:
        raise BadRequest("firstResult and maxResults must be whole numbers") from exc
    if first < 0 or (limit is not None and limit < 0):
        raise BadRequest("firstResult and maxResults may not be negative")
    return first, limit


@bp.route("/deployment", methods=["GET"])
def list_deployments() -> Any:
    """Deployments, oldest first; the Modeler's connection check asks ``maxResults=0``."""
    first, limit = _paging()
    with signed_in() as (services, _):
        if limit == 0:
            return []
        query = sa.select(Deployment).order_by(Deployment.deployed_at, Deployment.id)
        if request.args.get("name"):
            query = query.where(Deployment.name == request.args["name"])
        query = query.offset(first)
        if limit is not None:
            query = query.limit(limit)
        return [deployment_dict(row) for row in services.session.scalars(query)]


@bp.route("/deployment/create", methods=["POST"])
def create_deployment() -> Any:
    """Deploy the diagram and its forms: every file part, whatever its field name.

    sertiflow always filters duplicates: unchanged content is no new version,
    and the answer then names the deployment that holds it. Unlike Camunda,
    ``deployedProcessDefinitions`` then lists the current definitions of the
    diagram: the Modeler's "Start current diagram" deploys first and starts the
    definition the answer names, so an unchanged diagram can still be started.
    """
    if request.form.get("tenant-id"):
        raise BadRequest("sertiflow has no tenants: leave the tenant ID empty")
    uploads = [(field, storage) for field, storage in request.files.items(multi=True)]
    if not uploads:
        raise BadRequest("no files: send the diagram (and its forms) as file parts")
    with signed_in() as (services, actor):
        if not actor.may_deploy:
            raise Forbidden("you may not deploy (needs the analyst or admin role)")
        files = [(storage.filename or field, storage.read()) for field, storage in uploads]
        result = services.deployments.deploy(
            files, actor=actor.username,
            source=request.form.get("deployment-source") or "Camunda Modeler",
            name=request.form.get("deployment-name") or "engine-rest")
        return _deployment_answer(services, result)


def _deployment_answer(services: Services, result: DeploymentResult) -> dict[str, Any]:
    deployment_id = result.deployment_id or _existing_deployment_id(services, result)
    row = services.session.get(Deployment, deployment_id) if deployment_id else None
    answer: dict[str, Any] = deployment_dict(row) if row is not None else {
        "id": None, "name": request.form.get("deployment-name"),
        "source": request.form.get("deployment-source"), "deploymentTime": None,
        "tenantId": None, "links": []}
    answer["deployedProcessDefinitions"] = {
        p.id: definition_dict(services.deployments.get(p.id)) for p in result.processes} or None
    answer["deployedCaseDefinitions"] = None
    answer["deployedDecisionDefinitions"] = None
    answer["deployedDecisionRequirementsDefinitions"] = None
    return answer


def _existing_deployment_id(services: Services, result: DeploymentResult) -> str | None:
    """The deployment holding the unchanged content (its first process, else form)."""
    for process in result.processes:
        return services.deployments.get(process.id).deployment_id
    for form in result.forms:
        return services.deployments.latest_form(form.form_id).deployment_id
    return None


@bp.route("/process-definition", methods=["GET"])
def list_definitions() -> Any:
    """Process definitions, filtered by ``key``, ``deploymentId``, ``latestVersion``."""
    first, limit = _paging()
    with signed_in() as (services, _):
        latest = request.args.get("latestVersion", "false").lower() == "true"
        found = services.deployments.definitions(key=request.args.get("key"), latest=latest)
        if request.args.get("deploymentId"):
            found = [d for d in found if d.deployment_id == request.args["deploymentId"]]
        found = found[first:] if limit is None else found[first:first + limit]
        return [definition_dict(d) for d in found]


@bp.route("/process-definition/key/<key>", methods=["GET"])
def get_definition_by_key(key: str) -> Any:
    with signed_in() as (services, _):
        return definition_dict(services.deployments.latest(key))


@bp.route("/process-definition/<definition_id>", methods=["GET"])
def get_definition(definition_id: str) -> Any:
    with signed_in() as (services, _):
        return definition_dict(services.deployments.get(definition_id))


@bp.route("/process-definition/<definition_id>/start", methods=["POST"])
def start(definition_id: str) -> Any:
    """Start exactly this version (the id as sertiflow gives it, ``key:version:hash``)."""
    return _start(lambda services: services.deployments.get(definition_id))


@bp.route("/process-definition/key/<key>/start", methods=["POST"])
def start_by_key(key: str) -> Any:
    """Start the latest version of ``key``."""
    return _start(lambda services: services.deployments.latest(key))


def _json_body() -> Any:
    """The request's JSON body ({} when empty, None when not JSON), read strictly."""
    if not request.data:
        return {}
    if not request.is_json:
        return None
    try:
        return jsonio.loads(request.get_data(cache=True))
    except jsonio.RefusedJSON as exc:
        raise BadRequest(str(exc)) from None
    except ValueError:
        return None


def _start(find: Any) -> dict[str, Any]:
    body = _json_body()
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
        started = services.runtime.start_instance(
            definition.key, definition_id=definition.id, variables=variables,
            business_key=business_key or None, actor=actor.username,
            company=actor.company if actor.is_customer else None)
        return _instance_dict(started)


@bp.route("/message", methods=["POST"])
def message() -> Any:
    """Camunda's message correlation: ``messageName``, ``businessKey``,
    ``processInstanceId``, ``processVariables``; 204, or the instance with
    ``resultEnabled``."""
    body = _json_body()
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
    body = _json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise BadRequest("the body must be a JSON object with a name")
    variables = typed_variables(body.get("variables"))
    with signed_in() as (services, actor):
        if actor.is_customer:
            raise Forbidden("customers may not send signals")
        services.send_signal(body["name"], variables, actor=actor.username)
    return Response(status=204)


@bp.route("/process-instance/<instance_id>/variables", methods=["POST"])
def modify_variables(instance_id: str) -> Any:
    """Camunda's variable modification: ``modifications`` (typed values) and
    ``deletions`` (names); 204. Admins only; conditional events that listen to the
    change are evaluated."""
    body = _json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with modifications and/or deletions")
    variables = typed_variables(body.get("modifications"))
    deletions = body.get("deletions") or []
    if not isinstance(deletions, list) or not all(isinstance(n, str) for n in deletions):
        raise BadRequest("deletions must be a list of variable names")
    with signed_in() as (services, actor):
        if not actor.is_admin:
            raise Forbidden("only admins may change the variables of an instance")
        services.queries.instance(actor, instance_id)
        services.runtime.set_variables(instance_id, variables, deletions=deletions,
                                       actor=actor.username)
    return Response(status=204)


@bp.route("/condition", methods=["POST"])
def evaluate_conditions() -> Any:
    """Camunda's condition evaluation: start every process whose conditional start
    event holds on ``variables`` (``businessKey``, ``processDefinitionId``); answers
    the instances started."""
    body = _json_body()
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
        return [_instance_dict(row) for row in started]


def _instance_dict(started: Any) -> dict[str, Any]:
    return {
        "id": started.id, "definitionId": started.definition_id,
        "businessKey": started.business_key, "caseInstanceId": None,
        "ended": started.status in ("completed", "cancelled"),
        "suspended": started.status == "suspended", "tenantId": None, "links": [],
    }


# -- typed variables ------------------------------------------------------------------


def typed_variables(raw: Any) -> dict[str, Any]:
    """Camunda's ``{"name": {"value": ..., "type": "String"}}`` as plain values."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadRequest("variables must be a JSON object of {value, type} objects")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, typed in raw.items():
        if not isinstance(typed, dict):
            errors[name] = 'give {"value": ..., "type": ...}'
            continue
        try:
            values[name] = typed_value(typed.get("value"), typed.get("type"))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise BadRequest("variables not accepted", errors)
    return values


INTEGER_RANGES = {"integer": 2**31, "long": 2**63, "short": 2**15}
KNOWN_TYPES = {"string", "boolean", "integer", "long", "short", "double", "date", "json"}
SUPPORTED = "String, Boolean, Integer, Long, Short, Double, Date, Json or Null"


def typed_value(value: Any, kind: Any) -> Any:
    """One Camunda typed value; raises ValueError with a message for the user."""
    if kind is None:  # Camunda infers the type of an untyped JSON value
        if isinstance(value, dict | list):
            raise ValueError(f"give a type ({SUPPORTED}) for a structured value")
        return value
    if not isinstance(kind, str):
        raise ValueError(f"type must be one of {SUPPORTED}")
    kind = kind.lower()
    if kind == "null" or (value is None and kind in KNOWN_TYPES):
        return None
    if kind == "string":
        if isinstance(value, dict | list):
            raise ValueError("a String must be text")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("a Boolean must be true or false")
    if kind in INTEGER_RANGES:
        number = _whole(value, kind)
        bound = INTEGER_RANGES[kind]
        if not -bound <= number < bound:
            raise ValueError(f"{number} is out of range for {kind.capitalize()}")
        return number
    if kind == "double":
        if isinstance(value, bool):
            raise ValueError("a Double must be a number")
        try:
            double = float(value)
        except (TypeError, ValueError):
            raise ValueError("a Double must be a number") from None
        if not math.isfinite(double):
            raise ValueError("a Double must be a finite number (JSON has no NaN or Infinity)")
        return double
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("a Date must be text like 2027-01-02T03:04:05.000+0700")
        try:
            return datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is no date like 2027-01-02T03:04:05.000+0700") from None
    if kind == "json":
        if isinstance(value, dict | list):
            return value
        if not isinstance(value, str):
            raise ValueError("a Json value must be JSON text")
        try:
            return jsonio.loads(value)
        except jsonio.RefusedJSON as exc:
            raise ValueError(f"the Json value is not valid JSON: {exc}") from None
        except ValueError:
            raise ValueError("the Json value is not valid JSON") from None
    raise ValueError(f"unsupported type {kind!r}: sertiflow takes {SUPPORTED}")


def _whole(value: Any, kind: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"an {kind.capitalize()} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    raise ValueError(f"an {kind.capitalize()} must be a whole number")


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(rest: str) -> Response:
    """Anything else under /engine-rest: Camunda's 404, not the app's problem+json."""
    return camunda_error(404, "InvalidRequestException",
                         f"sertiflow does not offer {request.method} /engine-rest/{rest}")
