"""Reading SpiffWorkflow's task tree: every task, the element a task runs, the events a
waiting task waits for, and the task that threw an event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.util.task import TaskState


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the workflow and its subprocesses.

    Scanning the task dicts is several times cheaper than SpiffWorkflow's tree
    iterator, and the runtime asks for ready tasks on every command.
    """
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def element_id(task: Any) -> str | None:
    """The id of the BPMN element ``task`` runs; None for a task of SpiffWorkflow's own."""
    bpmn_id: str | None = getattr(task.task_spec, "bpmn_id", None)
    return bpmn_id


def waiting_events(workflow: BpmnWorkflow) -> Iterator[Any]:
    """The catching events (and event-based gateways) that wait for their event."""
    for task in workflow.event_manager.tasks.values():
        if isinstance(task.task_spec, CatchingEvent) and task.state == TaskState.WAITING:
            yield task


def event_definitions(task: Any) -> list[tuple[str, Any]]:
    """(element id, event definition) of what a waiting event task waits for.

    An event-based gateway waits for the events of the catch events after it:
    SpiffWorkflow moves their definitions into one multiple definition on the
    gateway, in the order of its outgoing flows, so each is reported with the id of
    the catch event it came from.
    """
    spec = task.task_spec
    definition = spec.event_definition
    if isinstance(spec, EventBasedGateway):
        return [(getattr(output, "bpmn_id", None) or output.name, inner)
                for output, inner in zip(spec.outputs, definition.event_definitions,
                                         strict=False)]
    element = element_id(task) or spec.name
    if isinstance(definition, MultipleEventDefinition):  # e.g. a start event with several
        return [(element, inner) for inner in definition.event_definitions]
    return [(element, definition)]


def timer_kind(definition: TimerEventDefinition) -> str:
    """The runtime's name for a timer definition: date, duration or cycle."""
    names: dict[str, str] = {
        "ClockTimeDate": "date",
        "ClockDuration": "duration",
        "ClockCycle": "cycle",
    }
    return names.get(type(definition).__name__, "timer")


def thrower(workflow: BpmnWorkflow, definition: Any, attribute: str = "name") -> Any:
    """The task that threw ``definition`` last: a completed event (or task) with a
    definition of its type and the same ``attribute`` (an error's ``code``)."""
    value, kind = getattr(definition, attribute, None), type(definition)

    def threw(task: Any) -> bool:
        own = getattr(task.task_spec, "event_definition", None)
        return type(own) is kind and getattr(own, attribute, None) == value

    throwers = [t for t in all_tasks(workflow) if t.state == TaskState.COMPLETED and threw(t)]
    return max(throwers, key=lambda t: t.last_state_change, default=None)
