"""``/deployment``: the Modeler's connection check and "Deploy current diagram"."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request

from engine.composition import Services
from engine.deployment.service import DeploymentResult
from engine.errors import Forbidden
from engine.models import Deployment

from .arguments import paging
from .auth import signed_in, signed_in_to_read
from .blueprint import bp
from .errors import BadRequest
from .shapes import definition_dict, deployment_dict


@bp.route("/deployment", methods=["GET"])
def list_deployments() -> Any:
    """Deployments, oldest first; the Modeler's connection check asks ``maxResults=0``."""
    first, limit = paging()
    with signed_in_to_read() as (services, actor):
        if limit == 0:
            return []  # the Modeler's connection check: the credentials are good
        if not actor.may_deploy:
            # Deployments are the analysts' and admins' work, as on the pages.
            raise Forbidden("you may not list deployments (needs the analyst or admin role)")
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
