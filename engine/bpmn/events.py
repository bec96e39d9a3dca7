"""Timer and message event definitions that run on sertiflow's clock and data model.

SpiffWorkflow's timers read ``datetime.now()`` and interpret a date without an
offset in the server's local zone. These subclasses ask the workflow's script
engine for the time (the engine's one clock, which tests move by days without
sleeping) and read an offset-less date in the configured zone (Asia/Jakarta).

SpiffWorkflow's Camunda message definition puts a message's payload under
``<element>_Response``; Camunda 7 sets the correlated variables as process
variables, which is what analysts expect, so the payload is merged into the data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition

from .host import TIMER_CALENDAR


def _engine(my_task: Any) -> Any:
    return my_task.workflow.script_engine


def parse_moment(text: str, engine: Any) -> datetime:
    """Read an ISO 8601 date or date-time; without an offset it is in the engine's zone."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=engine.timezone)
    return moment


def evaluate_timer(my_task: Any, expression: str) -> str:
    value = _engine(my_task).evaluate(my_task, expression)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{int(value.total_seconds())}S"
    if not isinstance(value, str):
        raise ValueError(f"timer expression {expression!r} gave {value!r}, not an ISO 8601 text")
    return value.strip()


class _FiresAtOneMoment:
    """``has_fired`` for timers with one due moment, computed once when first reached."""

    expression: str

    def due_moment(self, my_task: Any, text: str) -> datetime:
        raise NotImplementedError

    def has_fired(self, my_task: Any) -> bool:
        engine = _engine(my_task)
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = self.due_moment(my_task, evaluate_timer(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=value)
        if datetime.fromisoformat(value) <= engine.now():
            my_task._set_internal_data(event_fired=True)
        fired: bool = my_task._get_internal_data("event_fired", False)
        return fired


class ClockTimeDate(_FiresAtOneMoment, TimeDateEventDefinition):
    """A timer at a fixed moment (``timeDate``)."""

    def due_moment(self, my_task: Any, text: str) -> datetime:
        return parse_moment(text, _engine(my_task))


class ClockDuration(_FiresAtOneMoment, DurationTimerEventDefinition):
    """A timer a duration after the event is reached (``timeDuration``)."""

    def due_moment(self, my_task: Any, text: str) -> datetime:
        engine = _engine(my_task)
        moment: datetime = engine.add_duration(engine.now(), text, my_task)
        return moment


class ClockCycle(CycleTimerEventDefinition):
    """A repeating timer (``timeCycle``: ``R3/PT1H``, ``R/2027-01-01T00:00Z/P1D``)."""

    def cycle_complete(self, my_task: Any) -> bool:
        engine = _engine(my_task)
        value = my_task._get_internal_data("event_value")
        if value is None:
            text = evaluate_timer(my_task, self.expression)
            cycles, start, duration = parse_cycle(text, engine, my_task)
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration}
        ready = False
        if value["cycles"] != 0:
            upcoming = datetime.fromisoformat(value["next"])
            if upcoming <= engine.now():
                value["next"] = (upcoming + timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=value)
        return ready


def parse_cycle(text: str, engine: Any, task: Any = None) -> tuple[int, datetime, float]:
    """Split an ISO 8601 repeating interval into (cycles, first due time, seconds between).

    ``task`` is the waiting event's, whose element may ask for working days.
    """
    parts = text.strip().upper().split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise ValueError(f"not an ISO 8601 repeating interval: {text!r}")
    cycles = int(parts[0][1:]) if parts[0][1:] else -1
    if len(parts) == 2:
        step = engine.add_duration(engine.now(), parts[1], task) - engine.now()
        return cycles, engine.now() + step, step.total_seconds()
    if parts[1].startswith("P"):
        end = parse_moment(parts[2], engine)
        parsed = TimerEventDefinition.parse_iso_duration(parts[1])
        step = TimerEventDefinition.get_timedelta_from_end(parsed, end)
        return cycles, end - step, step.total_seconds()
    start = parse_moment(parts[1], engine)
    step = engine.add_duration(start, parts[2], task) - start
    return cycles, start, step.total_seconds()


class MergingMessageEventDefinition(MessageEventDefinition):
    """A Camunda message whose variables become process variables on arrival."""

    def throw(self, my_task: Any) -> None:
        """Send the message; one drawn without a payload expression carries no variables."""
        if self.expression:
            super().throw(my_task)
            return
        payload = {"payload": {}, "result_var": self.result_var}
        my_task.workflow.top_workflow.catch(BpmnEvent(self, payload=payload))

    def update_task_data(self, my_task: Any) -> None:
        event_data = my_task.internal_data.get(self.name) or {}
        payload = event_data.get("payload")
        result_var = event_data.get("result_var")
        if result_var:
            my_task.data[result_var] = payload
        elif isinstance(payload, dict):
            my_task.data.update(payload)

    def update_internal_data(self, my_task: Any, event: Any) -> None:
        # Keep result_var as sent (None means "merge"), unlike the parent class.
        my_task.internal_data[self.name] = event.payload


class MappedSignalEventDefinition(SignalEventDefinition):
    """A signal that carries what its ``camunda:in`` mappings name, and nothing else.

    SpiffWorkflow's signal carries every variable of the task that throws it,
    so each instance that catches it received the thrower's variables over its
    own (another company's data included). Camunda 7 passes variables with a
    signal only through ``camunda:in`` on the definition (``source``/``target``,
    ``sourceExpression``, ``variables="all"``). A catching definition matches
    any signal of its name, whichever class threw it (the API throws plain
    ones). Upstream: a ``payload`` on ``SignalEventDefinition`` built from mappings.
    """

    def __init__(self, name: str, mappings: list[dict[str, Any]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.mappings = mappings or []

    def throw(self, my_task: Any) -> None:
        from .hooks import mapped_variables  # hooks builds on this module's neighbours

        payload = mapped_variables(my_task, self.mappings, my_task.data) if self.mappings else {}
        my_task.workflow.top_workflow.catch(BpmnEvent(self, payload=payload))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SignalEventDefinition) and other.name == self.name

    __hash__ = SignalEventDefinition.__hash__


TIMER_CLASSES = {
    TimeDateEventDefinition: ClockTimeDate,
    DurationTimerEventDefinition: ClockDuration,
    CycleTimerEventDefinition: ClockCycle,
}


class _Timebase:
    """The three things timer parsing asks an engine for, outside a workflow."""

    def __init__(self, now: datetime, timezone: Any, add_duration: Any) -> None:
        self._now = now
        self.timezone = timezone
        self._add = add_duration

    def now(self) -> datetime:
        return self._now

    def add_duration(self, start: datetime, text: str, task: Any = None) -> datetime:
        moment: datetime = self._add(start, text, TIMER_CALENDAR)  # start timers: wall clock
        return moment


def evaluate_constant_timer(expression: str) -> str:
    """Evaluate a timer expression that may not use process variables (a start event's)."""
    from engine.scripting.expressions import translate

    from ..scripting import evaluate

    value = evaluate(translate(expression), {})
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def first_due(typename: str, text: str, *, now: datetime, timezone: Any, add_duration: Any
              ) -> tuple[datetime, int, float | None]:
    """When a timer start event first fires: (due, starts to come (-1 endless), step s)."""
    base = _Timebase(now, timezone, add_duration)
    if typename == "ClockCycle":
        cycles, start, step = parse_cycle(text, base)
        return start, cycles, step
    if typename == "ClockTimeDate":
        return parse_moment(text, base), 1, None
    return base.add_duration(now, text), 1, None
