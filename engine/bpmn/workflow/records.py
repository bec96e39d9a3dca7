"""What a running workflow reports to the runtime, in the engine's own terms: user
tasks, what an instance waits for, what it threw, the steps it ran and their failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UserTaskView:
    """A ready user task as the engine projects it into the ``task`` table."""

    id: str
    element_id: str
    title: str | None
    lane: str | None
    camunda: Mapping[str, str]
    properties: Mapping[str, str]
    form_fields: list[dict[str, Any]]
    data: Mapping[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    element_id: str
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class WaitingMessage:
    """A message (or, with ``kind`` "signal", a signal) an instance waits for."""

    task_id: str
    element_id: str
    name: str
    kind: str = "message"


@dataclass(frozen=True)
class ThrownEvent:
    """A message or signal the instance threw that no element of its own caught."""

    kind: str  # "message" or "signal"
    name: str
    variables: dict[str, Any]
    element_id: str | None
    task_id: str | None


@dataclass(frozen=True)
class StepFailure:
    """An element that raised while the engine ran it."""

    task_id: str | None
    element_id: str | None
    kind: str
    message: str
    traceback: str
    #: Variable name -> what is wrong with its value, when the failure was caused by
    #: input values (a handler's ``InvalidInput``): a person may correct exactly those.
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class StepRecord:
    """An element the engine completed on its own (not a user task)."""

    task_id: str
    element_id: str
    element_type: str
    changed: dict[str, Any] = field(default_factory=dict)
    #: The data objects the element wrote, by name (engine.bpmn.data).
    data_objects: dict[str, Any] = field(default_factory=dict)
