"""Who sends a request to /engine-rest, and the transaction it runs in.

Credentials: HTTP Basic (a sertiflow user name and password, with the sign-in
rate limit) or a sertiflow bearer token; without either the answer is 401.

A command runs in one write transaction (:func:`signed_in`); a read runs in a
read transaction (:func:`signed_in_to_read`), so that on SQLite the Modeler's and
scripts' GETs neither wait for the one writer nor hold it up. What a read's
sign-in must write is written apart, in a short write transaction after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request

from engine.composition import Services
from engine.errors import EngineError, TooManyAttempts, Unauthenticated
from engine.identity.access import Actor

from ..context import engine


def _actor(services: Services, *, read_only: bool = False) -> Actor:
    """Who sends this request: HTTP Basic or a sertiflow bearer token.

    ``read_only`` writes nothing: a failed Basic sign-in and a token's use are
    left for the caller to record (see :func:`signed_in_to_read`).
    """
    auth = request.authorization
    if auth is None:
        raise Unauthenticated("sign in: choose 'HTTP Basic' in the Modeler's endpoint "
                              "configuration and give a sertiflow user name and password")
    if auth.type == "basic":
        user = services.identity.authenticate(auth.username or "", auth.password or "",
                                              remote_addr=request.remote_addr,
                                              read_only=read_only)
        return Actor(user.username, user.role_names, user.company)
    if auth.type == "bearer" and auth.token:
        return services.identity.actor_for_token(auth.token.strip(),
                                                 record_use=not read_only)
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


@contextmanager
def signed_in_to_read() -> Iterator[tuple[Services, Actor]]:
    """One read transaction for the request, with its actor; for GET and HEAD.

    Written apart afterwards, in a write transaction of its own: a failed HTTP Basic
    sign-in (the rate limit counts it; the password is not checked again) before
    the refusal is raised, and a bearer token's last use, as ``query()`` in
    api/context.py does. A password hash due for rehashing is left as it is: the
    next Basic sign-in to a command (the Modeler's deploy or start) rehashes it.
    """
    refusal: EngineError | None = None
    due: set[int] = set()
    with engine().read() as services:
        try:
            actor = _actor(services, read_only=True)
        except (Unauthenticated, TooManyAttempts) as exc:
            refusal = exc
        else:
            yield services, actor
            due = set(services.identity.pending_token_uses())
    failed = _failed_basic_sign_in(refusal)
    if failed is not None or due:
        with engine().write() as services:
            if failed is not None:
                services.identity.record_failed_sign_in(failed, request.remote_addr)
            if due:
                services.identity.record_token_use(due)
    if refusal is not None:
        raise refusal


def _failed_basic_sign_in(refusal: EngineError | None) -> str | None:
    """The user name of a Basic sign-in that ``refusal`` turned down for its password.

    None for no refusal, for a sign-in refused by the rate limit (which records
    nothing) and for a missing or bearer credential (never counted).
    """
    auth = request.authorization
    if type(refusal) is Unauthenticated and auth is not None and auth.type == "basic":
        return auth.username or ""
    return None
