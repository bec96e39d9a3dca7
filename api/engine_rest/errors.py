"""Errors as Camunda 7's REST API sends them: ``{"type", "message"}`` in
``application/json``, not problem+json, because that is what the Modeler reads.

Which status and exception type an engine error gets is the one table of
:mod:`api.errors`; this module only writes the answer in Camunda's shape.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from engine.errors import DeploymentRejected, EngineError, InvalidInput, TooManyAttempts

from .. import jsonio
from ..errors import mapping_for

# One logger for all of /engine-rest, under the package's name.
log = logging.getLogger(__package__)

REALM = 'Basic realm="sertiflow"'


class BadRequest(InvalidInput):
    """A request this endpoint family cannot take (400 InvalidRequestException)."""


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


def engine_error(exc: EngineError) -> Response:
    """An engine error with the status and type of :func:`api.errors.mapping_for`."""
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


def http_error(exc: HTTPException) -> Response:
    """A Werkzeug error (unknown method, body too large...) in Camunda's shape."""
    status = exc.code or 500
    kind = "InvalidRequestException" if status < 500 else "ProcessEngineException"
    headers: dict[str, str] = {}
    allow = exc.get_response().headers.get("Allow") if status == 405 else None
    if allow:
        headers["Allow"] = allow
    return camunda_error(status, kind, exc.description or exc.name, headers=headers)


def unexpected_error(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return camunda_error(500, "ProcessEngineException",
                         "internal server error; it has been logged")
