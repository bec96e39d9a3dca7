"""Compensation at run time: the events that run the handlers of their scope, one
after the other, and what they plan to compensate.

Everything lives in the throwing task's ``internal_data`` (:data:`STATE`) and in
its handler subworkflow, which the state serializer stores under the throwing
task (see :mod:`engine.bpmn.serializer`, which calls :func:`runs_handlers` and
:func:`reconnect`).
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import CancelEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent as EndEventMixin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from ..hooks.sharing import publish
from ..script_engine import loop_variables
from .elements import ACTIVITY_REF, EVENT_SUBPROCESS, HANDLER

# Key of the throwing task's internal data.
STATE = "sertiflow_compensation"

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class Compensating:
    """What a compensation throw, compensation end or cancel end event does before it
    completes: run the handlers of its scope, one after the other, as its subworkflow.

    The task runs like a sub-process: its first run plans and starts the first
    handler and leaves it STARTED; each handler's end starts the next; after the
    last the task is READY again, and that run completes it (its end listeners
    run then, once).
    """

    extensions: dict[str, Any]

    def _update_hook(self, my_task: Any) -> Any:
        if my_task.internal_data.get(STATE) is not None:
            # Compensating: SpiffWorkflow updates a subworkflow's parent task after each
            # step; that must neither take the parent's data again nor make it READY.
            return False
        return super()._update_hook(my_task)  # type: ignore[misc]

    def _run(self, my_task: Any) -> Any:
        try:
            if self._compensating(my_task):
                return None
        except Exception:
            my_task.error()
            raise
        return super()._run(my_task)  # type: ignore[misc]

    def _compensating(self, my_task: Any) -> bool:
        """Start (or go on with) the compensation; whether a handler now runs."""
        if my_task.internal_data.get(STATE) is None:
            self._before_compensation(my_task)
            my_task.internal_data[STATE] = {"queue": plan(my_task), "current": None,
                                            "done": []}
        running = my_task.workflow.top_workflow.subprocesses.get(my_task.id)
        if running is not None and not running.completed:
            return True
        return _start_next(my_task)

    def _before_compensation(self, my_task: Any) -> None:
        """Hook: what happens before the handlers run."""

    def _on_subworkflow_completed(self, subworkflow: Any, my_task: Any) -> None:
        try:
            _handler_done(my_task, subworkflow)
        except Exception:
            my_task.error()
            raise

    def _on_cancel(self, my_task: Any) -> None:
        running = my_task.workflow.top_workflow.subprocesses.get(my_task.id)
        if running is not None and not running.completed:
            running.cancel()
        super()._on_cancel(my_task)  # type: ignore[misc]


class CompensationThrowEvent(Compensating, IntermediateThrowEvent):
    """An intermediate throw event with a compensation event definition."""


class CompensationEndEvent(Compensating, EndEvent):
    """An end event with a compensation event definition: compensates, then ends its path."""


class CancelEndEvent(Compensating, EndEvent):
    """A cancel end event in a transaction.

    As in Camunda 7: the rest of the transaction is interrupted, its completed
    activities are compensated, and the transaction is left through its cancel
    boundary event, which carries the transaction's variables on.

    Upstream SpiffWorkflow 3.2's cancel end event cancels the transaction's
    workflow when it completes; SpiffWorkflow then takes that workflow for
    completed, so the transaction also completes, and only the boundary event's
    join cancels its normal outgoing path again. Here the transaction stays
    open until the boundary event interrupts it (no upstream change exists).
    """

    def _before_compensation(self, my_task: Any) -> None:
        keep = {my_task.id}
        parent = my_task.parent
        while parent is not None:
            keep.add(parent.id)
            parent = parent.parent
        for other in list(my_task.workflow.tasks.values()):
            if other.id not in keep and other.state & _OPEN:
                other.cancel()

    def _run_hook(self, my_task: Any) -> Any:
        result = super()._run_hook(my_task)  # throws the cancel event; the boundary catches it
        _carry_to_cancel_boundary(my_task)
        return result

    def _on_complete_hook(self, my_task: Any) -> None:
        # Not EndEvent's, which cancels (and so completes) the transaction's workflow.
        super(EndEventMixin, self)._on_complete_hook(my_task)
        for child in my_task.children:
            child.cancel()


def _carry_to_cancel_boundary(my_task: Any) -> None:
    """Give the cancel boundary event (which just caught) what the transaction changed."""
    top = my_task.workflow.top_workflow
    parent_id = my_task.workflow.parent_task_id
    transaction = top.get_task_from_id(parent_id) if parent_id is not None else None
    if transaction is None or transaction.parent is None:
        return
    changes = {key: value for key, value in my_task.data.items()
               if key not in transaction.data or transaction.data[key] != value}
    for sibling in transaction.parent.children:
        if (isinstance(sibling.task_spec, BoundaryEvent)
                and isinstance(sibling.task_spec.event_definition, CancelEventDefinition)
                and sibling.state == TaskState.READY):
            sibling.data.update(deepcopy(changes))


def plan(my_task: Any) -> list[dict[str, str]]:
    """What the compensation event ``my_task`` compensates, in the order it does it."""
    top = my_task.workflow.top_workflow
    ref = (getattr(my_task.task_spec, "extensions", None) or {}).get(ACTIVITY_REF) or None
    found: list[dict[str, str]] = []
    _collect(top, scope_of(my_task), ref, compensated(top), found)
    return found


def _collect(top: Any, workflow: Any, ref: str | None, taken: set[str],
             found: list[dict[str, str]]) -> None:
    position = {task_id: index for index, task_id in enumerate(workflow.tasks)}
    completed = [t for t in workflow.tasks.values()
                 if t.state == TaskState.COMPLETED and str(t.id) not in taken
                 and getattr(t.task_spec, "bpmn_id", None)
                 and (ref is None or t.task_spec.bpmn_id == ref)]
    completed.sort(key=lambda t: (t.last_state_change, position[t.id]), reverse=True)
    for task in completed:
        handler = (getattr(task.task_spec, "extensions", None) or {}).get(HANDLER)
        if handler:
            found.append({"target": str(task.id), "handler": handler})
        elif _is_embedded(task.task_spec):
            inner = top.subprocesses.get(task.id)
            if inner is not None:
                _collect(top, inner, None, taken, found)


def _is_embedded(spec: Any) -> bool:
    """An embedded sub-process or transaction (a call activity's process is not compensated)."""
    extensions = getattr(spec, "extensions", None) or {}
    return isinstance(spec, SubWorkflowTask) and not extensions.get("calls")


def scope_of(my_task: Any) -> Any:
    """The workflow whose activities a compensation event compensates: its own, except
    in a compensation event sub-process, which compensates the sub-process it is in."""
    top = my_task.workflow.top_workflow
    parent_id = my_task.workflow.parent_task_id
    owner = top.get_task_from_id(parent_id) if parent_id is not None else None
    if owner is None or not (getattr(owner.task_spec, "extensions", None) or {}).get(
            EVENT_SUBPROCESS):
        return my_task.workflow
    runner_id = owner.workflow.parent_task_id
    runner = top.get_task_from_id(runner_id) if runner_id is not None else None
    current = (runner.internal_data.get(STATE) or {}).get("current") if runner else None
    compensated_sub = top.subprocesses.get(UUID(current["target"])) if current else None
    return compensated_sub if compensated_sub is not None else my_task.workflow


def tasks_within(top: Any, workflow: Any) -> Iterator[Any]:
    """The tasks of ``workflow`` and of the subworkflows under its tasks, at any depth."""
    for task in list(workflow.tasks.values()):
        yield task
        inner = top.subprocesses.get(task.id)
        if inner is not None:
            yield from tasks_within(top, inner)


def compensated(top: Any, within: Any = None) -> set[str]:
    """Ids of the tasks compensated, being compensated or planned for it, in ``within``."""
    found: set[str] = set()
    for task in tasks_within(top, within if within is not None else top):
        state = task.internal_data.get(STATE) if isinstance(task.task_spec, Compensating) else None
        if not state:
            continue
        found.update(state.get("done", []))
        found.update(item["target"] for item in state.get("queue", []))
        if state.get("current"):
            found.add(state["current"]["target"])
    return found


def _start_next(my_task: Any) -> bool:
    """Start the next planned handler as ``my_task``'s subworkflow; False when none is left."""
    top = my_task.workflow.top_workflow
    state = my_task.internal_data[STATE]
    state["current"] = None
    while state["queue"]:
        item = state["queue"].pop(0)
        target = top.get_task_from_id(UUID(item["target"]))
        if target is None or target.state != TaskState.COMPLETED:
            continue
        if item["handler"] not in top.subprocess_specs:
            state["queue"].insert(0, item)  # a retry after a new deployment cannot help,
            raise WorkflowTaskException(  # but the instance keeps what it planned
                f"the compensation handler of '{target.task_spec.bpmn_id}' "
                f"({item['handler']}) is not part of the deployed definition",
                task=my_task)
        if my_task.id in top.subprocesses:
            top.delete_subprocess(my_task)
        subworkflow = top.create_subprocess(my_task, item["handler"])
        subworkflow.completed_event.connect(my_task.task_spec._on_subworkflow_completed,
                                            my_task)
        data = deepcopy(my_task.data)
        data.update(deepcopy(instance_variables(target)))
        subworkflow.task_tree.set_data(**data)
        state["current"] = item
        subworkflow.task_tree.run()
        return True
    return False


def reconnect(subworkflow: Any, my_task: Any) -> None:
    """After a restore: let a handler subworkflow's end reach its compensation event."""
    subworkflow.completed_event.connect(my_task.task_spec._on_subworkflow_completed, my_task)


def runs_handlers(task: Any) -> bool:
    return isinstance(task.task_spec, Compensating)


def instance_variables(target: Any) -> dict[str, Any]:
    """The variables of one multi-instance instance its handler sees: its element
    variable and ``loopCounter``."""
    parent = target.parent
    spec = getattr(parent, "task_spec", None)
    if not isinstance(spec, MultiInstanceTask):
        return {}
    found: dict[str, Any] = {"loopCounter": loop_variables(target).get("loopCounter")}
    item = getattr(spec, "input_item", None)
    name = getattr(item, "bpmn_id", None)
    if name and name in target.data:
        found[name] = target.data[name]
    return found


def _handler_done(my_task: Any, subworkflow: Any) -> None:
    """A handler ended: keep what it changed, then start the next or let the event complete."""
    state = my_task.internal_data.get(STATE)
    if not state or not state.get("current"):
        return
    top = my_task.workflow.top_workflow
    before = subworkflow.task_tree.data
    after = subworkflow.last_task.data if subworkflow.last_task is not None else {}
    changes = {key: deepcopy(value) for key, value in after.items()
               if key not in before or before[key] != value}
    my_task.data.update(changes)
    publish(my_task.workflow, changes)
    state["done"].append(state["current"]["target"])
    # What compensation events inside the handler compensated stays compensated.
    state["done"].extend(sorted(compensated(top, subworkflow)))
    state["current"] = None
    top.delete_subprocess(my_task)
    if not _start_next(my_task):
        my_task._set_state(TaskState.READY)
