"""Signing in and out of the pages, and where each user starts."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from engine.errors import EngineError, NotFound, TooManyAttempts, Unauthenticated
from engine.identity.access import Actor

from ..context import engine
from . import bp
from .session import SignInRequired, reading, session_token, start_session


def home_of(actor: Actor) -> str:
    """The first page of a user: a customer's applications, an admin's dashboard, tasks."""
    if actor.is_customer:
        return url_for("web.applications")
    if actor.is_admin:
        return url_for("web.dashboard")
    return url_for("web.task_list")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another host) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.get("/web")
def home() -> ResponseReturnValue:
    try:
        with reading() as (_services, actor):
            return redirect(home_of(actor))
    except SignInRequired:
        return redirect(url_for("web.signin"))


def _demo_users() -> list[str]:
    """In demo mode (``sertiflow run``), the demo users a newcomer may sign in as."""
    if not engine().settings.demo:
        return []
    with engine().read() as services:
        return services.identity.demo_users()


@bp.get("/signin")
def signin() -> ResponseReturnValue:
    return render_template("signin.html", next=safe_next(request.args.get("next")),
                           username="", error=None, demo_users=_demo_users())


@bp.post("/signin")
def signin_submit() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    refusal: EngineError | None = None
    with engine().write() as services:
        try:
            user = services.identity.authenticate(username, password,
                                                  remote_addr=request.remote_addr)
        except (Unauthenticated, TooManyAttempts) as exc:
            # Leave the block normally: the failure must be committed to count.
            refusal = exc
        else:
            issued = services.identity.issue_token(user, name="web")
            actor = Actor(user.username, user.role_names, user.company)
    if refusal is not None:
        status = 429 if isinstance(refusal, TooManyAttempts) else 401
        key = "signin.too_many" if status == 429 else "signin.wrong"
        headers = {"Retry-After": str(refusal.retry_after)} if isinstance(
            refusal, TooManyAttempts) else {}
        seconds = refusal.retry_after if isinstance(refusal, TooManyAttempts) else 0
        page = render_template("signin.html", next=target, username=username,
                               error=(key, seconds), demo_users=_demo_users())
        return page, status, headers
    start_session(issued.token)
    return redirect(target or home_of(actor))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    token = session_token()
    if token:
        try:
            with engine().write() as services:
                services.identity.revoke_token(token)
        except NotFound:
            pass  # revoked and purged already: the session ends all the same
    session.clear()
    return redirect(url_for("web.signin"))
