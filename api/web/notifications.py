"""The signed-in user's notification settings page: e-mail address, how often, language.

The same checks as ``PUT /api/v1/me/notifications`` (the engine's
:mod:`engine.notifications.preferences`); a refused field is shown next to it in
the page's language and nothing is changed.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import InvalidInput
from engine.notifications.preferences import (
    NOTIFY_CHOICES,
    NotificationSettings,
    settings_of,
    update_settings,
)
from engine.notifications.texts import LANGUAGES

from . import bp, i18n
from .session import reading, writing


def _page(settings: NotificationSettings, errors: dict[str, str],
          status: int = 200) -> ResponseReturnValue:
    return render_template("notifications.html", settings=settings, errors=errors,
                           choices=NOTIFY_CHOICES, languages=LANGUAGES), status


@bp.get("/settings/notifications")
def notification_settings() -> ResponseReturnValue:
    with reading() as (services, actor):
        return _page(settings_of(services.session, actor.username), {})


@bp.post("/settings/notifications")
def notification_settings_save() -> ResponseReturnValue:
    email = (request.form.get("email") or "").strip()[:1000]
    notify = request.form.get("notify") or ""
    language = request.form.get("language") or ""
    try:
        with writing() as (services, actor):
            update_settings(services.session, actor.username, email=email or None,
                            notify=notify, language=language)
    except InvalidInput as exc:
        # What the person typed stays in the form, with each refused field marked.
        typed = NotificationSettings(email or None, notify, language)
        return _page(typed, {field: f"notify.invalid.{field}" for field in exc.errors}, 422)
    flash(i18n.translate(i18n.current(), "notify.saved"), "ok")
    return redirect(url_for("web.notification_settings"))
