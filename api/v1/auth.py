"""Sign-in: bearer tokens, and who am I."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import EngineError, TooManyAttempts, Unauthenticated

from .. import schemas
from ..context import bearer_token, command, query
from ..errors import PROBLEM
from .common import blueprint, documented

bp = blueprint("auth", "", "Sign in with a user name and password; tokens and the current user")


@bp.route("/auth/token", methods=["POST"])
@bp.arguments(schemas.TokenRequest)
@bp.response(201, schemas.TokenResponse)
@bp.alt_response(400, schema=schemas.Problem, description="the body is not JSON",
                 content_type=PROBLEM)
@bp.alt_response(401, schema=schemas.Problem, description="wrong user name or password",
                 content_type=PROBLEM)
@bp.alt_response(429, schema=schemas.Problem, description="too many failed sign-ins",
                 content_type=PROBLEM, headers={"Retry-After": {
                     "description": "seconds to wait before trying again",
                     "schema": {"type": "integer"}}})
def issue_token(body: dict[str, Any]) -> Any:
    """Exchange a user name and password for a bearer token."""
    refusal: EngineError | None = None
    with command(anonymous=True) as (services, _):
        try:
            user = services.identity.authenticate(body["username"], body["password"],
                                                  remote_addr=request.remote_addr)
        except (Unauthenticated, TooManyAttempts) as exc:
            # Commit the recorded failure (rate limiting counts it), then refuse.
            refusal = exc
        else:
            issued = services.identity.issue_token(user, name=body.get("name"))
    if refusal is not None:
        raise refusal
    return {"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}


@bp.route("/auth/token", methods=["DELETE"])
@bp.response(204)
@documented(bp, 401)
def revoke_token() -> None:
    """Revoke the token this request is signed with."""
    with command() as (services, _):
        services.identity.revoke_token(bearer_token())


@bp.route("/me", methods=["GET"])
@bp.response(200, schemas.Me)
@documented(bp, 401)
def me() -> Any:
    """Return the signed-in user, their roles and company."""
    with query() as (services, actor):
        user = services.identity.user(actor.username)
        return {"username": user.username, "display_name": user.display_name,
                "roles": sorted(actor.roles), "company": user.company}
