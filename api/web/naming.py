"""Names people read in place of technical values: a process's name for its key, a
case's number (or "not numbered yet") for an instance id.

Template globals of every page (``process_name``, ``case_number``). A process's
name is its latest deployed version's ``name`` (the pool's or process's name
in Camunda Modeler), looked up once per request.
"""

from __future__ import annotations

from typing import Any

from flask import g

from engine.deployment.service import latest_definitions

from ..context import engine
from . import bp, i18n


def process_names() -> dict[str, str]:
    """Process key -> its name, for this request."""
    names: dict[str, str] | None = g.get("sf_process_names")
    if names is None:
        with engine().read() as services:
            names = {d.key: d.name or d.key for d in latest_definitions(services.session)}
        g.sf_process_names = names
    return names


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
    return {"process_name": process_name, "case_number": case_number}
