"""The web pages: server-rendered Jinja pages for staff, customers and administrators.

The pages call the same engine services as the REST API (``engine.queries.lists``,
``engine.runtime.commands``, ``engine.documents.service``, ``engine.deployment.service``, …) and
apply the same access rules, which live in the engine. A page session is a
bearer token kept in the signed session cookie (see :mod:`.session`); every
POST carries a CSRF token. Indonesian is the default language, English can be
chosen (:mod:`.i18n`). Front-end libraries (bpmn-js, form-js) come from the npm
registry into ``node_modules/`` and are served by :mod:`.assets`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from engine.config import Settings

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web/static")


def page_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint for an extension's pages, behaving like the engine's own: the same
    language choice, CSRF check, headers, error pages and layout (``base.html``)."""
    from .layout import install

    blueprint = Blueprint(name, import_name, **options)
    install(blueprint)
    return blueprint


def init_app(app: Flask, settings: Settings) -> None:
    """Register the pages and the session cookie's settings."""
    # Flask's defaults are HttpOnly, no SameSite, and the name "session"; keep a value
    # the app was created with, change only those defaults.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SESSION_COOKIE_NAME") == "session":
        app.config["SESSION_COOKIE_NAME"] = "sertiflow_session"
    if settings.secure_cookies:
        app.config["SESSION_COOKIE_SECURE"] = True
    from . import i18n

    i18n.load(app)
    # Imported for their routes, which attach to ``bp``.
    from . import (  # noqa: F401
        assets,
        auth,
        customer,
        dashboard,
        deployments,
        layout,
        messages,
        monitor,
        naming,
        notifications,
        tasks,
    )

    app.register_blueprint(bp)
    for pages in app.extensions["sertiflow"].setup.page_blueprints:
        app.register_blueprint(pages)
