"""Deployments: the deployed definitions and their versions; uploading .bpmn and .form files.

An upload goes to the same ``DeploymentService.deploy`` as ``POST
/api/v1/deployments`` and ``sertiflow deploy``; a refused deployment shows each
problem with its file, element and line, and nothing of it is stored. Only
analysts and admins see these pages (``Actor.may_deploy``), as only they may
deploy through ``/api/v1`` and ``/engine-rest``.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from engine.deployment.service import DeploymentResult
from engine.errors import DeploymentRejected, Forbidden, Problem

from . import bp
from .session import reading, writing


def _render(result: DeploymentResult | None = None, problems: list[Problem] | None = None,
            status: int = 200) -> ResponseReturnValue:
    with reading() as (services, actor):
        if not actor.may_deploy:
            # Analysts and admins draw and deploy the processes; other staff have
            # nothing to do here (and see no link to it).
            raise Forbidden("deployments are for the analyst and admin roles")
        found = services.deployments.definitions()
        versions: list[tuple[str, list[Any]]] = [
            (key, sorted(group, key=lambda d: -d.version))
            for key, group in groupby(found, key=lambda d: d.key)]
        page = render_template("deployments.html", versions=versions, result=result,
                               problems=problems or [], may_deploy=actor.may_deploy)
    return page, status


@bp.get("/deployments")
def deployments() -> ResponseReturnValue:
    return _render()


@bp.post("/deployments")
def deploy() -> ResponseReturnValue:
    uploads = [u for u in request.files.getlist("files") if u.filename]
    if not uploads:
        return _render(problems=[Problem("(none)", "choose one or more .bpmn or .form files")],
                       status=422)
    try:
        with writing() as (services, actor):
            if not actor.may_deploy:
                raise Forbidden("deploying needs the analyst or admin role")
            files = [(u.filename or "unnamed", u.read()) for u in uploads]
            result = services.deployments.deploy(files, actor=actor.username, source="web",
                                                 name=", ".join(name for name, _ in files))
    except DeploymentRejected as rejected:
        return _render(problems=rejected.problems, status=422)
    return _render(result=result)
