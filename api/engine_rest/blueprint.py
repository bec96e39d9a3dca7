"""The ``/engine-rest`` blueprint: its error handlers, and the routes that belong to no
resource (the version check, and Camunda's 404 for anything else)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError

from .errors import camunda_error, engine_error, http_error, unexpected_error

bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")

# The Camunda 7 version the Modeler is told it talks to.
CAMUNDA_VERSION = "7.21.0"

# Blueprint handlers come before the app's problem+json ones for these routes.
bp.register_error_handler(EngineError, engine_error)
bp.register_error_handler(HTTPException, http_error)
bp.register_error_handler(Exception, unexpected_error)


@bp.route("/version", methods=["GET"])
def version() -> Any:
    """The Camunda 7 version the Modeler checks (it gives nothing else away)."""
    return {"version": CAMUNDA_VERSION}


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(rest: str) -> Response:
    """Anything else under /engine-rest: Camunda's 404, not the app's problem+json."""
    return camunda_error(404, "InvalidRequestException",
                         f"sertiflow does not offer {request.method} /engine-rest/{rest}")
