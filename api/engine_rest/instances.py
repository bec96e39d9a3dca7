"""``/process-instance``: an admin's change to an instance's variables."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine.errors import Forbidden

from .arguments import json_body
from .auth import signed_in
from .blueprint import bp
from .errors import BadRequest
from .variables import typed_variables


@bp.route("/process-instance/<instance_id>/variables", methods=["POST"])
def modify_variables(instance_id: str) -> Any:
    """Camunda's variable modification: ``modifications`` (typed values) and
    ``deletions`` (names); 204. Admins only; conditional events that listen to the
    change are evaluated."""
    body = json_body()
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
