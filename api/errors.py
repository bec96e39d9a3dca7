"""Every error as ``application/problem+json`` (RFC 7807), mapped in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from engine.errors import (
    Conflict,
    DeploymentRejected,
    EngineError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)

from . import schemas

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"

@dataclass(frozen=True)
class ErrorMapping:
    """How one kind of engine error is answered, by ``/api/v1`` (and the pages) and by
    ``/engine-rest`` (as Camunda 7's REST API answers it)."""

    error: type[EngineError]
    status: int  # /api/v1 and the pages
    problem: str  # /api/v1's problem type: /problems/<problem>
    camunda_status: int  # /engine-rest
    camunda_type: str  # /engine-rest's exception type


# The one table; the first matching class wins (subclasses first).
ERRORS: tuple[ErrorMapping, ...] = (
    ErrorMapping(Unauthenticated, 401, "unauthenticated", 401, "AuthenticationException"),
    ErrorMapping(TooManyAttempts, 429, "too-many-attempts", 429, "AuthenticationException"),
    ErrorMapping(Forbidden, 403, "forbidden", 403, "AuthorizationException"),
    ErrorMapping(NotFound, 404, "not-found", 404, "InvalidRequestException"),
    ErrorMapping(Conflict, 409, "conflict", 409, "ProcessEngineException"),
    ErrorMapping(DeploymentRejected, 422, "deployment-rejected", 400, "ParseException"),
    ErrorMapping(InvalidInput, 422, "invalid-input", 400, "InvalidRequestException"),
)
OTHER = ErrorMapping(EngineError, 400, "bad-request", 400, "ProcessEngineException")


def mapping_for(exc: EngineError) -> ErrorMapping:
    """The row of :data:`ERRORS` for ``exc``."""
    return next((row for row in ERRORS if isinstance(exc, row.error)), OTHER)


def problem_document(status: int, title: str, detail: str | None, *, instance: str,
                     kind: str | None = None, **extra: Any) -> dict[str, Any]:
    """The problem+json body; also sent by the server for a body it will not read."""
    body: dict[str, Any] = {"type": f"/problems/{kind or status}", "title": title,
                            "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    body.update(extra)
    return body


def problem(status: int, title: str, detail: str | None = None, *, kind: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = problem_document(status, title, detail, instance=request.path, kind=kind, **extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="sertiflow"')
    return response


def engine_problem(exc: EngineError) -> Response:
    row = mapping_for(exc)
    status, kind = row.status, row.problem
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput) and exc.errors:
        extra["errors"] = [{"field": f, "message": m} for f, m in exc.errors.items()]
    if isinstance(exc, DeploymentRejected):
        extra["errors"] = [{"file": p.file, "element": p.element, "line": p.line,
                            "message": p.message} for p in exc.problems]
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    title = kind.replace("-", " ").capitalize()
    return problem(status, title, exc.message, kind=kind, headers=headers, **extra)


def http_problem(exc: HTTPException) -> Response:
    """Werkzeug and webargs errors; webargs puts its messages in ``exc.data``.

    Those are by location, then by field (422, the input is not valid), or for a
    whole location at once (400, such as a body that is not JSON at all).
    """
    status = exc.code or 500
    extra: dict[str, Any] = {}
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    detail = (data.get("message") if isinstance(data, dict) else None) or exc.description
    if isinstance(messages, dict) and messages:
        errors: list[dict[str, str]] = []
        whole: list[str] = []
        for found in messages.values():
            if isinstance(found, dict):
                errors.extend({"field": str(field), "message": "; ".join(_flatten(message))}
                              for field, message in found.items())
            else:
                whole.extend(_flatten(found))
        if errors:
            extra["errors"] = errors
        if whole:
            detail = " ".join(whole)
    response = problem(status, exc.name, detail, kind=str(status), **extra)
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def _flatten(message: Any) -> list[str]:
    if isinstance(message, list):
        return [m for item in message for m in _flatten(item)]
    if isinstance(message, dict):
        return [f"{k}: {m}" for k, v in message.items() for m in _flatten(v)]
    return [str(message)]


def unexpected_problem(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal server error", "the error has been logged", kind="internal")


def document(api: Api) -> None:
    """Describe errors in the OpenAPI document as they are sent: problem+json.

    flask-smorest refers to a response component per status (such as the 422 of
    every ``@arguments``), made for its own JSON error body; these are replaced,
    before any operation is documented. No ``default`` response: each operation
    lists the statuses it answers with, so a client (and the schemathesis run of
    the test suite) can tell an undocumented one.
    """
    for status in HTTPStatus:
        if status >= 400:
            api.spec.components.response(status.name, {
                "description": status.phrase,
                "content": {PROBLEM: {"schema": schemas.Problem}},
            }, lazy=True)
    api.DEFAULT_ERROR_RESPONSE_NAME = None


def init_app(app: Flask) -> None:
    app.register_error_handler(EngineError, engine_problem)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(Exception, unexpected_problem)
