"""What a reader sees of an incident: staff the failure itself, a customer that one happened;
and the form staff fix an incident with when its cause is a variable's value.

An incident keeps the exception's text and traceback for the staff who fix it;
both can name server files, paths and internals. A customer (``pelanggan``)
gets, in their language, a short message in place of the text and no traceback:
in the instance's incidents and in its history, in the REST API and the pages.
Who sees the detail is :attr:`engine.identity.access.Actor.sees_failure_details`.

When a service task refused its input (the handler raised ``InvalidInput`` naming
variables), the incident's opening in the history names those variables. Staff
then get a form for exactly them, typed as each current value is, that sets them
and runs the step again in one command (``Runtime.retry_incident``, recorded in
the history with who did it and the values). Who may: admins, and staff holding
the role of the failing step's lane, or of the message it follows (``recordedBy``:
those who record a payment fix its NTPN): the people who own that step know what
its values should be, and need no admin for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request

from engine.errors import Conflict, Forbidden, InvalidInput
from engine.identity.access import Actor
from engine.models import HistoryEvent, Incident, ProcessInstance
from engine.queries.awaited import RECORDED_BY

from . import jsonio
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


@dataclass(frozen=True)
class FixField:
    """A variable a person may correct to fix an incident."""

    name: str
    #: What the step said is wrong with it.
    problem: str
    #: "text", "integer", "number", "boolean", or "json" (lists and objects: admins only).
    kind: str
    value: Any


def input_problems(incident: Incident, history: Iterable[Any]) -> dict[str, str]:
    """Variable -> problem recorded when ``incident`` opened (empty: not caused by values)."""
    found: dict[str, str] = {}
    for event in history:
        if (event.kind == "incident_opened" and event.task_id == incident.task_id
                and event.element_id == incident.element_id
                and isinstance(event.data, dict) and isinstance(event.data.get("fields"), dict)
                and event.at <= incident.created_at):
            found = {str(k): str(v) for k, v in event.data["fields"].items()}
    return found


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (list, dict)):
        return "json"
    return "text"


def fix_fields(incident: Incident, history: Iterable[Any],
               variables: Mapping[str, Any]) -> list[FixField]:
    """The value form of an open incident caused by values (empty for any other)."""
    if incident.status != "open":
        return []
    return [FixField(name, problem, kind_of(variables.get(name)), variables.get(name))
            for name, problem in sorted(input_problems(incident, history).items())]


def step_roles(stored_spec: Mapping[str, Any], element_id: str | None) -> set[str]:
    """The roles owning an element of a stored definition spec: its lane's, and the
    ``recordedBy`` role of a message event right before it (whose values it used)."""
    if element_id is None:
        return set()
    for process in [stored_spec.get("spec") or {},
                    *(stored_spec.get("subprocess_specs") or {}).values()]:
        specs = process.get("task_specs") or {}
        spec = specs.get(element_id)
        if spec is None:
            continue
        roles = {str(spec["lane"])} if spec.get("lane") else set()
        for before in spec.get("inputs") or []:
            properties = ((specs.get(before) or {}).get("extensions") or {}).get(
                "properties") or {}
            if properties.get(RECORDED_BY):
                roles.add(str(properties[RECORDED_BY]))
        return roles
    return set()


def fixable(services: Any, actor: Actor,
            incident_id: int) -> tuple[ProcessInstance, list[FixField]]:
    """The instance of an open incident ``actor`` may fix by values, and its fields.

    :raises Conflict: when the incident is already resolved.
    :raises InvalidInput: when no variable's value caused it (an admin retries it).
    :raises Forbidden: when ``actor`` is neither an admin nor staff of the step's role.
    """
    incident = services.queries.incident(incident_id)
    instance = services.queries.instance(actor, incident.instance_id)
    if incident.status != "open":
        raise Conflict(f"incident {incident_id} is already resolved")
    history = services.queries.history(actor, instance.id, per_page=200).items
    fields = fix_fields(incident, history, services.runtime.variables(instance))
    if not fields:
        raise InvalidInput("this incident was not caused by a variable's value",
                           {"variables": "nothing to correct; an admin retries it"})
    roles = step_roles(services.runtime.stored_spec(instance.definition_id),
                       incident.element_id)
    if not may_fix(actor, roles):
        raise Forbidden("only staff of the step's role or an admin may fix this incident")
    return instance, fields


def may_fix(actor: Actor, roles: set[str]) -> bool:
    """Admins, and staff of a role that owns the failing step."""
    if actor.is_customer:
        return False
    return actor.is_admin or bool(roles & actor.roles)


def parse_fix(fields: Iterable[FixField], form: Mapping[str, str], *,
              admin: bool) -> dict[str, Any]:
    """The corrected values from the value form, each of its variable's type.

    :raises InvalidInput: naming each field whose entry is not of its type.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = (form.get(f"value.{field.name}") or "").strip()
        try:
            if field.kind == "boolean":
                if raw not in ("true", "false"):
                    raise ValueError("pilih Ya atau Tidak")
                values[field.name] = raw == "true"
            elif field.kind == "integer":
                values[field.name] = int(raw)
            elif field.kind == "number":
                values[field.name] = float(raw.replace(",", "."))
            elif field.kind == "json":
                if not admin:
                    continue  # lists and objects are corrected by an admin
                values[field.name] = jsonio.loads(raw)
            else:
                values[field.name] = raw
        except ValueError as exc:
            errors[field.name] = str(exc) if field.kind == "boolean" else (
                "harus berupa bilangan bulat" if field.kind == "integer"
                else "harus berupa angka" if field.kind == "number" else "bukan JSON yang sah")
    if errors:
        raise InvalidInput("the corrected values have errors", errors)
    return values


def check_fix(fields: Iterable[FixField], given: Mapping[str, Any], *,
              admin: bool) -> dict[str, Any]:
    """Corrected values sent as JSON: only the incident's variables, each of its type.

    :raises InvalidInput: naming each variable that is not the incident's or not of
        its type.
    """
    by_name = {field.name: field for field in fields}
    errors: dict[str, str] = {}
    for name, value in given.items():
        field = by_name.get(name)
        if field is None:
            errors[name] = f"not a variable of this incident; those are {', '.join(by_name)}"
        elif field.kind == "json" and not admin:
            errors[name] = "lists and objects are corrected by an admin"
        elif field.kind not in ("json", kind_of(value)) and not (
                field.kind == "number" and kind_of(value) == "integer"):
            errors[name] = f"must be of the same type as its value ({field.kind})"
    if errors:
        raise InvalidInput("the corrected values have errors", errors)
    return dict(given)
