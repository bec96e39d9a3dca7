"""Events in and out of a running workflow: the timers, messages and signals it waits
for, delivering them to it, and the messages and signals it throws for others."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)

from ..events import MappedSignalEventDefinition, MergingMessageEventDefinition
from .records import ThrownEvent, WaitingMessage, WaitingTimer
from .tasks import element_id, event_definitions, thrower, timer_kind, waiting_events


def fire_start_timers(workflow: BpmnWorkflow) -> None:
    """Let a waiting timer start event go now (the scheduler decided it is due)."""
    now = workflow.script_engine.now().isoformat()
    for task in list(waiting_events(workflow)):
        definition = task.task_spec.event_definition
        if not (isinstance(task.task_spec, StartEvent)
                and isinstance(definition, TimerEventDefinition)):
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            # One instance per firing: this instance's cycle runs exactly once.
            task._set_internal_data(event_value={"cycles": 1, "next": now, "duration": 0})
        else:
            task._set_internal_data(event_fired=True)
    workflow.refresh_timers()  # a cycle starts its branch
    workflow.refresh_timers()  # and, with no cycles left, completes


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """The timers the workflow waits for, with when each is due."""
    timers = []
    for task in waiting_events(workflow):
        for element, definition in event_definitions(task):
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task.internal_data.get("event_value")
            if isinstance(definition, CycleTimerEventDefinition):
                if not isinstance(value, dict) or value.get("cycles") == 0:
                    continue
                value = value["next"]
            if value is None:
                continue
            timers.append(WaitingTimer(str(task.id), element, timer_kind(definition),
                                       datetime.fromisoformat(value)))
    return timers


def waiting_messages(workflow: BpmnWorkflow) -> list[WaitingMessage]:
    """The messages and signals the workflow waits for, its event subprocesses' included."""
    waiting = [
        WaitingMessage(str(t.id), element, definition.name)
        for t in waiting_events(workflow)
        for element, definition in event_definitions(t)
        if isinstance(definition, MessageEventDefinition)
    ]
    waiting += [
        WaitingMessage(str(t.id), element, definition.name, "signal")
        for t in waiting_events(workflow)
        for element, definition in event_definitions(t)
        if isinstance(definition, SignalEventDefinition)
    ]
    if not workflow.is_completed():
        # The message and signal start events of the process's event subprocesses.
        root = str(workflow.task_tree.id)
        for name in workflow.spec.start.trigger_specs:
            spec = workflow.subprocess_specs.get(name)
            for start in getattr(spec, "bpmn_start_events", []):
                definition = start.event_definition
                if isinstance(definition, MessageEventDefinition):
                    waiting.append(WaitingMessage(root, start.bpmn_id, definition.name))
                elif isinstance(definition, SignalEventDefinition):
                    waiting.append(WaitingMessage(root, start.bpmn_id, definition.name,
                                                  "signal"))
    return waiting


def correlate_message(workflow: BpmnWorkflow, name: str, variables: Mapping[str, Any]) -> int:
    """Deliver a message; return how many waiting events caught it."""
    event = BpmnEvent(
        MergingMessageEventDefinition(name),
        payload={"payload": dict(variables), "result_var": None},
    )
    return _deliver(workflow, event, MessageEventDefinition, name)


def correlate_signal(workflow: BpmnWorkflow, name: str, variables: Mapping[str, Any]) -> int:
    """Deliver a signal to every element of this instance that waits for it."""
    event = BpmnEvent(MappedSignalEventDefinition(name), payload=dict(variables))
    return _deliver(workflow, event, SignalEventDefinition, name)


def _deliver(workflow: BpmnWorkflow, event: BpmnEvent, kind: type, name: str) -> int:
    """Give ``event`` to each waiting element whose definition is ``kind`` named ``name``.

    Not SpiffWorkflow's catch, which would throw an event nobody here
    catches again as this instance's own. An event subprocess whose start
    event catches it begins first: SpiffWorkflow creates it, and its start
    event waits, to catch the event below.
    """
    workflow.event_manager.update_collaboration(event)
    caught = 0
    for task in list(workflow.event_manager.tasks.values()):
        if any(isinstance(d, kind) and getattr(d, "name", None) == name
               for _, d in event_definitions(task)):
            task.task_spec.catch(task, event)
            task.task_spec._update(task)
            caught += 1
    return caught


def take_thrown(workflow: BpmnWorkflow) -> list[ThrownEvent]:
    """The messages and signals thrown since the last look, for other instances.

    SpiffWorkflow delivers an event inside its instance and hands back what
    nothing there caught; they are taken out here, so each leaves once.
    """
    kinds = (MessageEventDefinition, SignalEventDefinition)
    pending = [e for e in workflow.bpmn_events if isinstance(e.event_definition, kinds)]
    if not pending:
        return []
    workflow.bpmn_events = [e for e in workflow.bpmn_events if e not in pending]
    thrown = []
    for event in pending:
        definition = event.event_definition
        is_message = isinstance(definition, MessageEventDefinition)
        payload: Any = event.payload if isinstance(event.payload, dict) else {}
        if is_message and "result_var" in payload:
            payload = payload.get("payload")
        thrown_by = thrower(workflow, definition)
        thrown.append(ThrownEvent(
            kind="message" if is_message else "signal", name=str(definition.name),
            variables=dict(payload) if isinstance(payload, dict) else {},
            element_id=element_id(thrown_by) if thrown_by is not None else None,
            task_id=str(thrown_by.id) if thrown_by is not None else None))
    return thrown
