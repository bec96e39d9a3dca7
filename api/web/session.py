"""Who is signed in to the pages, one transaction per request, and CSRF protection.

Signing in to the pages issues an ordinary bearer token (named ``web``) through
the engine's :class:`~engine.identity.users.IdentityService` and keeps it in the Flask
session cookie (signed, HttpOnly, SameSite=Lax). Each request resolves it to an
actor exactly as the REST API resolves a token, so an expired or revoked token,
or a deactivated user, ends the page session too; signing out revokes it.

Every POST of the pages carries the session's CSRF token, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (the task page's fetch calls).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from flask import abort, g, request, session

from engine.composition import Services
from engine.errors import Unauthenticated
from engine.identity.access import Actor

from ..context import command, query

TOKEN = "token"
CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """The page needs a signed-in user; the blueprint answers with the sign-in page."""


def _actor(services: Services, *, read_only: bool) -> Actor:
    known: Actor | None = g.get("actor")
    if known is not None:
        return known
    token = session.get(TOKEN)
    if not token:
        raise SignInRequired()
    try:
        actor = services.identity.actor_for_token(token, record_use=not read_only)
    except Unauthenticated:
        session.clear()
        raise SignInRequired() from None
    g.actor = actor
    return actor


def reading() -> AbstractContextManager[tuple[Services, Actor]]:
    """One read transaction for a page, with the signed-in actor."""
    return query(_actor)


@contextmanager
def writing() -> Iterator[tuple[Services, Actor]]:
    """One write transaction for a command sent from a page, committed when the block ends."""
    with command(resolve=_actor) as (services, actor):
        assert actor is not None
        yield services, actor


def optional_actor(services: Services) -> Actor | None:
    """The signed-in actor on a page that anyone may see (None for a visitor)."""
    try:
        return _actor(services, read_only=True)
    except SignInRequired:
        return None


def signed_in_actor() -> Actor | None:
    """The actor of this request if a page already resolved one (for the layout)."""
    actor: Actor | None = g.get("actor")
    return actor


def start_session(token: str) -> None:
    """Begin a fresh session for a user who just signed in (new CSRF token too)."""
    session.clear()
    session[TOKEN] = token
    session[CSRF] = secrets.token_urlsafe(32)


def session_token() -> str | None:
    token: str | None = session.get(TOKEN)
    return token


def csrf_token() -> str:
    """The session's CSRF token, made on first use (the sign-in form needs one too)."""
    token: str | None = session.get(CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF] = token
    return token


def check_csrf() -> None:
    """Refuse (400) a POST whose CSRF token is missing or not this session's."""
    if request.method != "POST":
        return
    expected = session.get(CSRF)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="the form's security token (CSRF) is missing or out of date; "
                               "reload the page and try again")
