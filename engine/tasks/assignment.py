"""Work out who may act on a new user task, when it is due, and which form it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from engine.bpmn.workflow import UserTaskView

Evaluate = Callable[[str, Mapping[str, Any]], Any]
AddDuration = Callable[[datetime, str, str | None], datetime]


@dataclass
class TaskFields:
    assignee: str | None = None
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    priority: int = 50
    form_key: str | None = None
    due_at: datetime | None = None
    follow_up_at: datetime | None = None
    problems: list[str] = field(default_factory=list)


def resolve_task_fields(
    view: UserTaskView, now: datetime, evaluate: Evaluate, add_duration: AddDuration,
    timezone: tzinfo | None = None,
) -> TaskFields:
    """Evaluate the task's Camunda attributes against its data.

    A date or date-time without an offset (``2027-03-31``, ``2027-03-31T12:00``) is
    read in ``timezone``, the service's own (``SERTIFLOW_TIMEZONE``); a bare date means
    the end of that day there.

    A value that cannot be evaluated does not stop the task from being created;
    it is reported in ``problems`` so the engine can open an incident for it.
    """
    camunda = view.camunda
    fields = TaskFields()

    def value_of(attribute: str) -> Any:
        text = camunda.get(attribute)
        if not text:
            return None
        if "${" not in text and "#{" not in text:
            return text
        try:
            return evaluate(text, view.data)
        except Exception as exc:
            fields.problems.append(f"camunda:{attribute} '{text}' failed: {exc}")
            return None

    assignee = value_of("assignee")
    fields.assignee = str(assignee) if assignee else None
    groups = _names(value_of("candidateGroups"))
    fields.candidate_users = _names(value_of("candidateUsers"))
    if groups or camunda.get("candidateUsers"):
        # Named users without groups are the only candidates: the lane must not widen
        # an appeal panel to the whole role, the original panel included.
        fields.candidate_groups = groups
    else:
        fields.candidate_groups = [view.lane] if view.lane else []
    priority = value_of("priority")
    if priority is not None:
        try:
            fields.priority = int(priority)
        except (TypeError, ValueError):
            fields.problems.append(f"camunda:priority '{priority}' is not a whole number")
    fields.form_key = camunda.get("formRef") or camunda.get("formKey") or (
        "generated" if view.form_fields else None)
    calendar = view.properties.get("calendar")
    zone = timezone or now.tzinfo
    fields.due_at = _moment(value_of("dueDate"), now, zone, calendar, add_duration, fields,
                            "dueDate")
    fields.follow_up_at = _moment(value_of("followUpDate"), now, zone, calendar, add_duration,
                                  fields, "followUpDate")
    return fields


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _moment(value: Any, now: datetime, zone: tzinfo | None, calendar: str | None,
            add_duration: AddDuration, fields: TaskFields, attribute: str) -> datetime | None:
    """A due date is a duration from now (``P14D``) or a date/date-time."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(23, 59, 59))
        else:
            text = str(value).strip()
            if text.upper().startswith("P"):
                return add_duration(now, text, calendar)
            if len(text) == 10:  # a bare date: the end of that day
                moment = datetime.combine(date.fromisoformat(text), time(23, 59, 59))
            else:
                moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment
    except (ValueError, TypeError) as exc:
        fields.problems.append(f"camunda:{attribute} '{value}' is neither an ISO 8601 "
                               f"duration nor a date: {exc}")
        return None
