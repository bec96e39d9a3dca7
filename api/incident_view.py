"""What a reader sees of an incident: staff the failure itself, a customer that one happened.

An incident keeps the exception's text and traceback for the staff who fix it;
both can name server files, paths and internals. A customer (``pelanggan``)
gets, in their language, a short message in place of the text and no traceback:
in the instance's incidents and in its history, in the REST API and the pages.
Who sees the detail is :attr:`engine.identity.access.Actor.sees_failure_details`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request

from engine.identity.access import Actor
from engine.models import HistoryEvent, Incident

from .v1.common import Extended
from .web import i18n

CUSTOMER_MESSAGE = "incident.customer_message"
# History kinds whose data carries an incident's exception text.
FAILURE_KINDS = frozenset({"incident_opened"})


def api_language() -> str:
    """The language of an API answer: the best of the request's Accept-Language."""
    best = request.accept_languages.best_match(i18n.LANGUAGES)
    return best or i18n.DEFAULT


def incidents_for(actor: Actor, incidents: Iterable[Incident], lang: str) -> list[Any]:
    """The incidents as ``actor`` may see them."""
    if actor.sees_failure_details:
        return list(incidents)
    message = i18n.translate(lang, CUSTOMER_MESSAGE)
    return [Extended(incident, message=message, traceback=None) for incident in incidents]


def history_for(actor: Actor, events: Iterable[HistoryEvent], lang: str) -> list[Any]:
    """History events as ``actor`` may see them: no exception text for a customer."""
    if actor.sees_failure_details:
        return list(events)
    message = i18n.translate(lang, CUSTOMER_MESSAGE)
    return [Extended(event, data={**event.data, "message": message})
            if event.kind in FAILURE_KINDS and isinstance(event.data, dict) else event
            for event in events]
