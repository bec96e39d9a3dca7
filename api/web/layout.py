"""What every page shares: language, CSRF check, navigation, formatting and error pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, InstanceNotRunning
from engine.tasks.form_submission import FormInvalid

from ..context import engine
from ..errors import engine_problem, mapping_for
from . import bp, formatting, i18n
from .session import SignInRequired, check_csrf, csrf_token, signed_in_actor
from .sla import badge

LANG_COOKIE = "lang"
NOTHING = formatting.NOTHING
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def _before() -> None:
    g.lang = i18n.choose(request.args.get("lang"), request.cookies.get(LANG_COOKIE))
    check_csrf()


def _after(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in i18n.LANGUAGES and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True,
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    # Pages show personal data: never keep them in a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    # Only our own scripts run; bpmn-js and form-js set inline styles and draw with data:
    # images, and the downloads keep their own stricter policy (sandbox).
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def wants_json() -> bool:
    """Whether the caller is the pages' own script (it asks for JSON)."""
    return request.accept_mimetypes.best == "application/json"


def _sign_in(_exc: SignInRequired) -> ResponseReturnValue:
    if wants_json():
        return jsonify(title="sign in first", status=401), 401
    return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))


def _engine_error(exc: EngineError) -> ResponseReturnValue:
    if wants_json():
        answer = engine_problem(exc)
        if isinstance(exc, FormInvalid):
            # The page shows each field's problem next to it, in the person's language.
            body = answer.get_json()
            lang = g.get("lang", i18n.DEFAULT)
            body["errors"] = [{"field": e.field, "message": i18n.field_problem(lang, e)}
                              for e in exc.field_errors]
            answer.set_data(json.dumps(body, ensure_ascii=False))
        elif isinstance(exc, InstanceNotRunning):
            # The engine's detail names the instance by its id, in English; the task
            # page shows the detail to whoever completes the step.
            body = answer.get_json()
            body["detail"] = i18n.translate(g.get("lang", i18n.DEFAULT), "task.not_running")
            answer.set_data(json.dumps(body, ensure_ascii=False))
        return answer
    status = mapping_for(exc).status
    return render_template("error.html", status=status, message=exc.message), status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if wants_json():
        return jsonify(title=exc.name, status=status, detail=exc.description), status
    return render_template("error.html", status=status, message=exc.description), status


def page_arg() -> int:
    """The list page asked for (``?page=``), 1 when absent or not a number."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def page_count(total: int, per_page: int) -> int:
    """How many pages a list of ``total`` rows fills (at least one, to show the empty one)."""
    return max(1, -(-total // per_page))


def local_time(value: datetime | None, with_time: bool = True) -> str:
    """A moment in the service's time zone, as people there read it, in the page's
    language (:mod:`.formatting`)."""
    zone = engine().settings.timezone
    lang = g.get("lang", i18n.DEFAULT)
    return formatting.moment(value, lang, zone) if with_time \
        else formatting.day(value, lang, zone)


def url_with(**changes: Any) -> str:
    """This page's URL with some query arguments changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if k not in changes}
    args.update({k: v for k, v in changes.items() if v is not None and v != ""})
    query = urlencode(args)
    return request.path + (f"?{query}" if query else "")


@bp.app_template_filter("local")
def _local_filter(value: datetime | None) -> str:
    return local_time(value)


@bp.app_template_filter("day")
def _day_filter(value: Any) -> str:
    if isinstance(value, datetime):
        return local_time(value, with_time=False)
    return formatting.day(value, g.get("lang", i18n.DEFAULT))


@bp.app_template_filter("rupiah")
def _rupiah_filter(value: Any) -> str:
    return formatting.rupiah(value, g.get("lang", i18n.DEFAULT))


@bp.app_template_filter("number")
def _number_filter(value: Any) -> str:
    return formatting.number(value, g.get("lang", i18n.DEFAULT))


def _layout_context() -> dict[str, Any]:
    lang = g.get("lang", i18n.DEFAULT)
    return {
        "t": lambda key, **kw: i18n.translate(lang, key, **kw),
        "form_words": lambda: i18n.form_words(lang),
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "csrf_token": csrf_token,
        "me": signed_in_actor(),
        "url_with": url_with,
        "badge": badge,
        "extension_links": engine().setup.nav_links,
    }


def install(blueprint: Blueprint) -> None:
    """Give ``blueprint`` what every page has: language, CSRF check, security headers,
    error pages and the layout's template context. The engine's pages and each
    extension's pages (``page_blueprint``) get the same."""
    blueprint.before_request(_before)
    blueprint.after_request(_after)
    blueprint.register_error_handler(SignInRequired, _sign_in)
    blueprint.register_error_handler(EngineError, _engine_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.context_processor(_layout_context)


install(bp)
