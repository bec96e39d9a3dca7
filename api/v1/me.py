"""The signed-in user's own settings: ``/api/v1/me/notifications``."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.notifications.preferences import (
    EMAIL_WIDTH,
    NOTIFY_CHOICES,
    settings_of,
    update_settings,
)
from engine.notifications.texts import LANGUAGES

from ..context import command, query
from .common import blueprint, documented

bp = blueprint("me", "/me", "The signed-in user's own settings")


class NotificationSettings(Schema):
    email = fields.String(required=True, allow_none=True,
                          validate=validate.Length(max=EMAIL_WIDTH), metadata={
                              "description": "where e-mails go; null or empty: none",
                              "example": "rina@example.co.id"})
    notify = fields.String(required=True, validate=validate.OneOf(NOTIFY_CHOICES), metadata={
        "description": "every: a mail for each new or late task; digest: one mail a day "
                       "listing what waits; none: no mail"})
    language = fields.String(validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language of the mails (id, en); unchanged when left out"})


@bp.route("/notifications", methods=["GET"])
@bp.response(200, NotificationSettings)
@documented(bp, 401)
def get_notifications() -> Any:
    """Return how the signed-in user is told of new and late work by e-mail."""
    with query() as (services, actor):
        return settings_of(services.session, actor.username)


@bp.route("/notifications", methods=["PUT"])
@bp.arguments(NotificationSettings)
@bp.response(200, NotificationSettings)
@documented(bp, 401, 422)
def put_notifications(body: dict[str, Any]) -> Any:
    """Change the signed-in user's e-mail address, notification choice and mail language."""
    with command() as (services, actor):
        assert actor is not None
        return update_settings(services.session, actor.username, email=body["email"],
                               notify=body["notify"], language=body.get("language"))
