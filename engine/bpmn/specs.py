"""Task specs sertiflow adds to SpiffWorkflow's."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, BpmnStartTask
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    ManualTask,
    NoneTask,
    ReceiveTask,
    ServiceTask,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState


class TopicServiceTask(ServiceTask):
    """A service task run by the engine: a Python handler for its topic, or a Python expression.

    ``camunda:type="external" camunda:topic="x"`` calls the handler registered for
    ``x``; ``camunda:expression`` evaluates a (sandboxed) expression and stores the
    result in ``camunda:resultVariable``. The script engine does the work, because
    it is the one collaborator SpiffWorkflow hands to every task at run time.
    """

    extensions: dict[str, Any]

    def _execute(self, task: Any) -> bool:
        task.workflow.script_engine.run_service_task(task, self.extensions.get("camunda", {}))
        return True


class TopicSendTask(TopicServiceTask):
    """A send task; Camunda 7 runs it exactly like a service task."""


class PassThroughTask(NoneTask):
    """A plain ``bpmn:task``: Camunda 7 passes through it.

    SpiffWorkflow marks it manual and waits for someone to run it, but nobody
    is asked to, so the instance would wait forever.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class PassThroughManualTask(ManualTask):
    """A ``bpmn:manualTask``: work done outside any system, so Camunda 7 passes through it."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False


class RearmedBoundaryEvent(BoundaryEvent):
    """A boundary event that sees the instance's variables and, when it does not
    interrupt, keeps listening.

    Camunda 7 (and the specification) lets a non-interrupting boundary event
    fire once per event while its activity runs: two messages, two signals or
    two escalations start two branches. SpiffWorkflow's boundary event fires
    once. When one fires here, a new waiting copy of it joins its activity's
    boundary split; the split's join cancels it with the rest when the activity
    ends. Timers are left alone: a duration fires once and a cycle re-arms
    itself. (Upstream: the same in ``BoundaryEvent._on_ready_hook``.)

    SpiffWorkflow gives a boundary event the variables its activity started
    with; in Camunda its path sees them as they are when it fires. They are
    taken from the activity, which gets every change made meanwhile
    (:func:`engine.bpmn.hooks.publish`).
    """

    def _update_hook(self, my_task: Any) -> Any:
        fired = super()._update_hook(my_task)
        if fired:
            main = _activity(my_task)
            if main is not None:
                from .hooks import inner_changes  # hooks builds on these specs

                my_task.data.update(deepcopy(main.data))
                my_task.data.update(inner_changes(main))
        return fired

    def _on_ready_hook(self, my_task: Any) -> None:
        super()._on_ready_hook(my_task)
        if self.cancel_activity or isinstance(self.event_definition, TimerEventDefinition):
            return
        main = _activity(my_task)
        if main is None or main.has_state(TaskState.FINISHED_MASK):
            return
        again = my_task.parent._add_child(self, TaskState.MAYBE)  # predicted: gets its branch
        self._update(again)


def _activity(boundary: Any) -> Any:
    """The activity a boundary event task is attached to (its split's main branch)."""
    split = boundary.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    return next((t for t in split.children if not isinstance(t.task_spec, BoundaryEvent)), None)


class IsolatedStartTask(BpmnStartTask):
    """A process's start task that starts an event subprocess without rewiring the spec.

    SpiffWorkflow's ``trigger_wf`` connects the start task to the event
    subprocess it starts, in the process spec that every instance of the
    definition shares: from then on each new instance started that event
    subprocess at once, and could not end before it did. Here the subprocess
    leads to the end and names the start as its input (the same for every
    instance), but the start does not lead to it: the instance's start task gets
    it as a child of its own. (Upstream: the same in
    ``BpmnStartTask.trigger_wf``.)
    """

    def wire_triggers(self) -> None:
        """Let each event subprocess lead to the end and come from the start (done once,
        when the spec is loaded; the start does not lead to them)."""
        for name in self.trigger_specs:
            spec = self._wf_spec.task_specs.get(name)
            if spec is None:
                continue
            if self._wf_spec.end not in spec.outputs:
                spec.connect(self._wf_spec.end)
            if self.name not in spec._inputs:
                spec._inputs.append(self.name)

    def trigger_wf(self, my_task: Any, spec_name: str) -> Any:
        spec = self._wf_spec.task_specs.get(spec_name)
        self.wire_triggers()
        child = my_task._add_child(spec, TaskState.FUTURE)
        child.triggered = True
        child.task_spec._update(child)
        return child.id


class KeepsGivenVariables:
    """Spec mixin for elements that wait: what other branches set meanwhile stays.

    While an element waits (for a message, a signal, a timer), the changes
    other branches make reach it (:func:`engine.bpmn.hooks.publish`). But
    SpiffWorkflow copies the data of the step before it over the waiting task's
    each time it looks at it again, and so put back the values the instance had
    when the element was reached. Here the waiting task's own values win; what
    the event brings (a message's variables) is set after, as before.
    (Upstream: ``_inherit_data`` only when the task is first reached.)
    """

    def _update_hook(self, my_task: Any) -> Any:
        kept = dict(my_task.data)
        result = super()._update_hook(my_task)  # type: ignore[misc]
        my_task.data.update(kept)
        return result


class WaitingCatchEvent(KeepsGivenVariables, IntermediateCatchEvent):
    """An intermediate catch event (see :class:`KeepsGivenVariables`)."""


class WaitingReceiveTask(KeepsGivenVariables, ReceiveTask):
    """A receive task (see :class:`KeepsGivenVariables`)."""


class WaitingEventBasedGateway(KeepsGivenVariables, EventBasedGateway):
    """An event-based gateway (see :class:`KeepsGivenVariables`)."""
