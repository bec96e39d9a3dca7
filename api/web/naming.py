"""Names people read in place of technical values: a process's name for its key, a
case's number (or "not numbered yet") for an instance id, the name of the event
waiting for a message for the message's name.

Template globals of every page (``process_name``, ``case_number``,
``message_name``). They read the latest deployed version of each process (its
``name``, the pool's or process's name in Camunda Modeler, and its message
events), once per request.
"""

from __future__ import annotations

from typing import Any

from flask import g

from engine.deployment.service import latest_definitions

from ..context import engine
from . import bp, i18n
from .bpmn_outline import outline
from .progress import message_labels


def _latest() -> tuple[dict[str, str], dict[str, str]]:
    """Process key -> its name, message name -> its event's name, for this request."""
    found: tuple[dict[str, str], dict[str, str]] | None = g.get("sf_names")
    if found is None:
        with engine().read() as services:
            latest = latest_definitions(services.session)
            names = {d.key: d.name or d.key for d in latest}
            messages = message_labels(outline(d.id, d.key, d.bpmn_xml) for d in latest)
        found = g.sf_names = (names, messages)
    return found


def process_names() -> dict[str, str]:
    """Process key -> its name, for this request."""
    return _latest()[0]


def message_name(name: str) -> str:
    """The name of the event that waits for message ``name`` (the name itself if none)."""
    return _latest()[1].get(name, name)


def process_name(key: str | None) -> str:
    if not key:
        return ""
    return process_names().get(key, key)


def case_number(item: Any) -> str:
    """An instance's (or task's, clock's) business key, or words saying it has none yet."""
    key = getattr(item, "business_key", None)
    if key:
        return str(key)
    return i18n.translate(g.get("lang", i18n.DEFAULT), "instance.unnumbered")


@bp.app_context_processor
def _naming_context() -> dict[str, Any]:
    return {"process_name": process_name, "case_number": case_number,
            "message_name": message_name}
