"""The script engine a workflow runs with during one command.

SpiffWorkflow hands its script engine to every task at run time, and does not
serialize it. That makes it the place for what a command brings along: the
clock, the time zone, the duration arithmetic and the service-task handlers.
A fresh one is attached to the workflow for each command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.runtime.service_call import ServiceCall, ServiceDispatcher
from engine.time.clock import Clock

from ..scripting import DEFAULT_MEMORY_MB, UnstorableValue, check_storable
from .data import DataStoreAccess
from .script_engine import SandboxedScriptEngine

# What a timer event's duration counts when its element names no calendar.
TIMER_CALENDAR = "calendar-days"

DurationAdder = Callable[[datetime, str, str | None], datetime]


def parse_duration(text: str) -> dict[str, float]:
    """Split an ISO 8601 duration (``P1Y2M3W4DT5H6M7S``) into its named parts.

    :raises ValueError: when ``text`` is not a duration.
    """
    try:
        parsed: dict[str, float] = TimerEventDefinition.parse_iso_duration(text.strip().upper())
    except Exception as exc:  # SpiffWorkflow raises a bare Exception
        raise ValueError(f"not an ISO 8601 duration: {text!r}") from exc
    return parsed


def add_calendar_duration(start: datetime, text: str, calendar: str | None = None) -> datetime:
    """Add an ISO 8601 duration to ``start`` in calendar time (months of real length)."""
    parsed = parse_duration(text)
    return start + TimerEventDefinition.get_timedelta_from_start(dict(parsed), start)


class WorkflowScriptEngine(SandboxedScriptEngine):
    """The sandboxed script engine plus the command's clock and service handlers."""

    def __init__(
        self,
        *,
        clock: Clock,
        timezone: tzinfo,
        instance_id: str,
        business_key: str | None,
        dispatch: ServiceDispatcher,
        add_duration: DurationAdder = add_calendar_duration,
        timeout: float = 2.0,
        memory_mb: int = DEFAULT_MEMORY_MB,
        data_stores: DataStoreAccess | None = None,
    ) -> None:
        super().__init__(timeout=timeout, memory_mb=memory_mb)
        self.clock = clock
        self.timezone = timezone
        self.instance_id = instance_id
        self.business_key = business_key
        self._dispatch = dispatch
        self._add_duration = add_duration
        #: BPMN data stores (engine.bpmn.data), kept by the runtime in the database.
        self.data_stores = data_stores

    def now(self) -> datetime:
        return self.clock.now()

    def add_duration(self, start: datetime, text: str, task: Any = None) -> datetime:
        """Add a timer event's duration: wall-clock time unless its element says otherwise.

        As in Camunda, ``PT3S`` fires three seconds later, on a Sunday too. Only the
        element's ``camunda:property name="calendar" value="working-days"`` counts
        working days; the service's default calendar is for SLA due dates alone.
        """
        calendar = None
        if task is not None:
            calendar = (getattr(task.task_spec, "extensions", None) or {}).get(
                "properties", {}
            ).get("calendar")
        return self._add_duration(start, text, calendar or TIMER_CALENDAR)

    def run_service_task(self, task: Any, camunda: Mapping[str, str]) -> None:
        """Run a service task: the topic's handler, or a Python expression."""
        element = task.task_spec.bpmn_id
        if camunda.get("type") == "external" and camunda.get("topic"):
            call = ServiceCall(
                topic=camunda["topic"],
                instance_id=self.instance_id,
                business_key=self.business_key,
                element_id=element,
                variables=dict(task.data),
                properties=dict(
                    (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}),
            )
            try:
                result = self._dispatch(call)
            except Exception as exc:
                raise WorkflowTaskException(
                    f"handler for topic '{call.topic}' failed: {type(exc).__name__}: {exc}",
                    task=task,
                    exception=exc,
                ) from exc
            if result:
                task.data.update(result)
        elif camunda.get("expression"):
            value = self.evaluate(task, camunda["expression"])
            if camunda.get("resultVariable"):
                name = camunda["resultVariable"]
                try:
                    check_storable(name, value)
                except UnstorableValue as exc:
                    raise WorkflowTaskException(f"expression result: {exc}", task=task) from exc
                task.data[name] = value
        else:
            raise WorkflowTaskException(
                "service task has neither camunda:topic nor camunda:expression", task=task
            )
