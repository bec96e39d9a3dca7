"""Deployments and process definitions, and starting instances."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from engine.composition import Services
from engine.deployment.service import DefinitionRef
from engine.errors import InvalidInput
from engine.identity.access import Actor
from engine.models import ProcessDefinition
from engine.runtime.store import InstanceRow

from .. import schemas
from ..context import command, query, require
from ..schemas import definition_version, iso_time
from .common import blueprint, documented, page_dict

bp = blueprint("definitions", "", "Deploy .bpmn and .form files; list and start processes")

MULTIPART = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["files"],
        "properties": {"files": {"type": "array",
                                 "items": {"type": "string", "format": "binary"}}},
    }}},
}


@bp.route("/deployments", methods=["POST"])
@bp.doc(requestBody=MULTIPART)
@bp.response(201, schemas.DeploymentResult)
@documented(bp, 401, 403, 422)
def deploy() -> Any:
    """Validate and deploy BPMN diagrams and Camunda Forms (field ``files``, repeated).

    Nothing is stored unless every file passes; identical content is no new version.
    """
    uploads = request.files.getlist("files")
    if not uploads:
        raise InvalidInput("no files", {"files": "send one or more .bpmn or .form files"})
    with command() as (services, actor):
        actor = require(actor, actor is not None and actor.may_deploy,
                        "deploy (needs the analyst or admin role)")
        files = [(u.filename or "unnamed", u.read()) for u in uploads]
        result = services.deployments.deploy(files, actor=actor.username, source="api",
                                              name=request.form.get("name") or "api")
    return result


@bp.route("/process-definitions", methods=["GET"])
@bp.arguments(schemas.DefinitionArgs, location="query")
@bp.response(200, schemas.page_of(schemas.Definition, "DefinitionPage"))
@documented(bp, 401)
def list_definitions(args: dict[str, Any]) -> Any:
    """List deployed process definitions (``latest=true`` for the newest of each key)."""
    with query() as (services, _):
        found = services.deployments.definitions(key=args.get("key"), latest=args["latest"])
        return page_dict(services.queries.paginate(found, args["page"],
                                                           args["per_page"]))


@bp.route("/process-definitions/<key>", methods=["GET"])
@bp.response(200, schemas.Definition)
@documented(bp, 401, 404)
def get_definition(key: str) -> Any:
    """Return the latest version of a process."""
    with query() as (services, _):
        return services.deployments.latest(key)


@bp.route("/process-definitions/<key>/xml", methods=["GET"])
@bp.response(200, {"type": "string"}, description="the BPMN file as deployed",
             content_type="application/xml")
@documented(bp, 401, 404)
def get_definition_xml(key: str) -> Response:
    """Return the BPMN XML of the latest version (for diagram viewers)."""
    with query() as (services, _):
        definition = services.deployments.latest(key)
        return Response(definition.bpmn_xml, mimetype="application/xml")


def may_start(actor: Actor, services: Services,
              definition: ProcessDefinition | DefinitionRef) -> bool:
    """Whether ``actor`` is among the starters the process names (anyone, if none).

    A customer whose account names no company starts nothing: the instance would
    belong to no company they could be shown.
    """
    if actor.is_customer and not actor.company:
        return False
    starters = services.runtime.stored_spec(definition.id).get("starters") or {}
    groups, users = starters.get("groups") or [], starters.get("users") or []
    if not groups and not users:
        return True
    return actor.is_admin or actor.username in users or bool(actor.roles & set(groups))


@bp.route("/process-definitions/<key>/start", methods=["POST"])
@bp.arguments(schemas.StartRequest)
@bp.response(201, schemas.Instance)
@documented(bp, 400, 401, 403, 404, 422)
def start(body: dict[str, Any], key: str) -> Any:
    """Start an instance of the latest version of ``key``.

    A customer's instance belongs to their company; staff may name the company.
    """
    with command() as (services, actor):
        assert actor is not None
        definition = services.deployments.latest_ref(key)
        require(actor, may_start(actor, services, definition), f"start {key}")
        company = actor.company if actor.is_customer else body.get("company")
        started = services.start_instance(
            key, definition_id=definition.id, variables=body["variables"],
            business_key=body.get("business_key"), actor=actor.username, company=company)
    # From the row as the command wrote it (no second read), by hand: the schema above
    # documents it, and dumping through marshmallow cost more than writing the answer.
    answer = current_app.json.response(instance_json(started))
    answer.status_code = 201
    return answer


def instance_json(row: InstanceRow) -> dict[str, Any]:
    """The ``Instance`` schema's shape, built directly from a command's instance row."""
    return {
        "id": row.id, "key": row.definition_key,
        "version": definition_version(row.definition_id), "definition_id": row.definition_id,
        "business_key": row.business_key, "status": row.status, "company": row.company,
        "started_by": row.started_by, "started_at": iso_time(row.started_at),
        "ended_at": iso_time(row.ended_at),
    }
