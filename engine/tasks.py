"""Work out who may act on a new user task, when it is due, and which form it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from .bpmn.workflow import UserTaskView

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
    view: UserTaskView, now: datetime, evaluate: Evaluate, add_duration: AddDuration
) -> TaskFields:
    """Evaluate the task's Camunda attributes against its data.

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
    fields.candidate_groups = groups or ([view.lane] if view.lane else [])
    fields.candidate_users = _names(value_of("candidateUsers"))
    priority = value_of("priority")
    if priority is not None:
        try:
            fields.priority = int(priority)
        except (TypeError, ValueError):
            fields.problems.append(f"camunda:priority '{priority}' is not a whole number")
    fields.form_key = camunda.get("formRef") or camunda.get("formKey") or (
        "generated" if view.form_fields else None)
    calendar = view.properties.get("calendar")
    fields.due_at = _moment(value_of("dueDate"), now, calendar, add_duration, fields, "dueDate")
    fields.follow_up_at = _moment(value_of("followUpDate"), now, calendar, add_duration, fields,
                                  "followUpDate")
    return fields


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _moment(value: Any, now: datetime, calendar: str | None, add_duration: AddDuration,
            fields: TaskFields, attribute: str) -> datetime | None:
    """A due date is a duration from now (``P14D``) or a date/date-time."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(23, 59, 59), tzinfo=now.tzinfo)
        else:
            text = str(value).strip()
            if text.upper().startswith("P"):
                return add_duration(now, text, calendar)
            moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        return moment
    except (ValueError, TypeError) as exc:
        fields.problems.append(f"camunda:{attribute} '{value}' is neither an ISO 8601 "
                               f"duration nor a date: {exc}")
        return None
