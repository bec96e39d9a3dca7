"""The edge: each request opens one transaction and knows who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app, g, request

from engine.composition import Engine, Services
from engine.errors import Forbidden, Unauthenticated
from engine.identity.access import Actor


def engine() -> Engine:
    built: Engine = current_app.extensions["sertiflow"]
    return built


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("sign in: send 'Authorization: Bearer <token>' "
                              "(POST /api/v1/auth/token gives one)")
    return token.strip()


def authenticate(services: Services, *, read_only: bool = False) -> Actor:
    """Return the request's actor, checking its token once per request."""
    known: Actor | None = g.get("actor")
    if known is not None:
        return known
    actor = services.identity.actor_for_token(bearer_token(), record_use=not read_only)
    g.actor = actor
    return actor


# How a request's actor is found: from its bearer token (the API) or from the
# page session (the web pages), with the token's use recorded or not.
Resolver = Callable[..., Actor]


@contextmanager
def command(*, anonymous: bool = False,
            resolve: Resolver = authenticate) -> Iterator[tuple[Services, Actor | None]]:
    """One write transaction for the request, committed when the view returns."""
    with engine().write() as services:
        yield services, None if anonymous else resolve(services, read_only=False)


@contextmanager
def query(resolve: Resolver = authenticate) -> Iterator[tuple[Services, Actor]]:
    """One read transaction for the request (a token's last use is written apart)."""
    with engine().read() as services:
        yield services, resolve(services, read_only=True)
        due = set(services.identity.pending_token_uses())
    if due:
        with engine().write() as services:
            services.identity.record_token_use(due)


def require(actor: Actor | None, allowed: bool, what: str) -> Actor:
    """Refuse with 403 unless ``allowed``; return the (present) actor."""
    if actor is None:
        raise Unauthenticated("sign in first")
    if not allowed:
        raise Forbidden(f"you may not {what}")
    return actor
