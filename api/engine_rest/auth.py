"""Who sends a request to /engine-rest, and the transaction it runs in.

Credentials: HTTP Basic (a sertiflow user name and password, with the sign-in
rate limit) or a sertiflow bearer token; without either the answer is 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request

from engine.composition import Services
from engine.errors import EngineError, TooManyAttempts, Unauthenticated
from engine.identity.access import Actor

from ..context import engine


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
