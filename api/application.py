"""The Flask application class, without two costs Flask adds to every request.

An API request carries a bearer token and no cookies, yet Flask builds the
session cookie's signing serializer for it, and asks once per view, hook and
flask-smorest wrapper whether the function is a coroutine. Both answers are the
same every time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

# At most this many functions' answers are kept.
SYNC_KEPT = 1000


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, read only when the request sends cookies."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            # What Flask's own answer is without the cookie: a new, empty session.
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # nothing to set, delete or vary on: Flask's own would do nothing
        super().save_session(app, session, response)


class SertiflowFlask(Flask):
    session_interface = CookieSessions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Views, hooks and their wrappers are a fixed set: each decided once. A
        # class-based view's bound method is new every request, hence the bound.
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < SYNC_KEPT:
                self._sync[func] = found
        return found
