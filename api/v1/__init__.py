"""REST API version 1, under ``/api/v1``."""

from __future__ import annotations

from flask_smorest import Api

from .. import errors
from . import (
    auth,
    awaited,
    definitions,
    documents,
    incidents,
    instances,
    me,
    messages,
    signals,
    sla,
    tasks,
)

BLUEPRINTS = [auth.bp, definitions.bp, instances.bp, tasks.bp, messages.bp, signals.bp,
              incidents.bp, documents.bp, sla.bp, me.bp, awaited.bp]


def register(api: Api) -> None:
    errors.document(api)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
