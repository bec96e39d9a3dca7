"""Each user's e-mail notification settings: address, how often, language.

``notify`` is ``every`` (a mail for every new task and late task), ``digest``
(one mail a day listing what waits) or ``none``. Every user starts with
``every``, staff as well as customers: the organisation's steps have deadlines
of hours (a signature within the hour, an assignment within half an hour), so a
daily summary would arrive after the deadline; whoever wants fewer mails
chooses the digest. The REST API and the settings page check input here, so
both refuse the same things with the same field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.models import User

from .texts import DEFAULT_LANGUAGE, LANGUAGES

EVERY, DIGEST, NONE = "every", "digest", "none"
NOTIFY_CHOICES = (EVERY, DIGEST, NONE)
DEFAULT_NOTIFY = EVERY
EMAIL_WIDTH = 255
# One address: something, one @, a domain with a dot; no spaces, no list of several.
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+")


@dataclass(frozen=True)
class NotificationSettings:
    email: str | None
    notify: str
    language: str


def settings_of(session: Session, username: str) -> NotificationSettings:
    user = _user(session, username)
    return NotificationSettings(user.email, user.notify or DEFAULT_NOTIFY,
                                user.language or DEFAULT_LANGUAGE)


def check(email: str | None, notify: str, language: str) -> dict[str, str]:
    """What is wrong with these settings, by field (empty when nothing)."""
    errors = {}
    if email is not None and (len(email) > EMAIL_WIDTH or not _EMAIL.fullmatch(email)):
        errors["email"] = "must be one e-mail address, such as name@example.co.id"
    if notify not in NOTIFY_CHOICES:
        errors["notify"] = f"must be one of {', '.join(NOTIFY_CHOICES)}"
    if language not in LANGUAGES:
        errors["language"] = f"must be one of {', '.join(LANGUAGES)}"
    return errors


def update_settings(session: Session, username: str, *, email: str | None, notify: str,
                    language: str | None = None) -> NotificationSettings:
    """Change a user's settings; an empty address removes it (no mails then).

    :raises InvalidInput: naming each field that is wrong; nothing is changed.
    """
    user = _user(session, username)
    email = (email or "").strip() or None
    language = language or user.language or DEFAULT_LANGUAGE
    errors = check(email, notify, language)
    if errors:
        raise InvalidInput("invalid notification settings", errors)
    user.email, user.notify, user.language = email, notify, language
    session.flush()
    return NotificationSettings(email, notify, language)


def _user(session: Session, username: str) -> User:
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username}")
    return user
