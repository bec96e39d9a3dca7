"""Variables that change, and the conditional events that listen to them.

After every step (:func:`step_done`) and every ``set_variables`` call
(:func:`set_variables`), the event sub-process starts and the waiting events
that see the change are evaluated, top-down; an event whose condition raised is
an incident, retried by :func:`retry`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from ..hooks.sharing import OPEN, current_variables, instance_locals, publish
from .evaluation import (
    ARMED,
    FAILED,
    KNOWN,
    Changes,
    ConditionFailed,
    fail,
    task_condition_holds,
)
from .event_subprocesses import begins_scope, scopes, start_event_subprocesses
from .firing import attached_activity, cancel_attached, catch, fire, pending_boundaries

_GONE = object()


# -- after each step ---------------------------------------------------------------------------

def uses_conditions(workflow: Any) -> bool:
    """Whether the process or anything it runs has a conditional event (cached on the spec)."""
    top = workflow.top_workflow
    spec = top.spec
    cached = getattr(spec, "_sertiflow_conditional", None)
    if cached is None:
        cached = any(_conditional_definitions(task_spec)
                     for process in (spec, *top.subprocess_specs.values())
                     for task_spec in process.task_specs.values())
        spec._sertiflow_conditional = cached
    return bool(cached)


def step_done(task: Any, old: Mapping[str, Any]) -> None:
    """After ``task`` ran: a scope that begins, or variables that changed.

    ``old`` is the task's data before it ran; the changes are already given to
    the other open tasks (``hooks.publish``).
    """
    workflow = task.workflow
    if not uses_conditions(workflow):
        return
    top = workflow.top_workflow
    pending = pending_boundaries(top)
    while pending:
        boundary = pending.pop()
        if boundary.state == TaskState.READY:
            cancel_attached(boundary)
    if begins_scope(task):
        start_event_subprocesses(workflow, None)
    _arm_gateways(top)
    if isinstance(task.task_spec, Join):
        return  # it merges what the branches set; they said so when they set it
    changes = diff(old, task.data)
    if changes:
        notify(top, changes, since=task.last_state_change, origin=workflow)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    changes: Changes = {}
    for name, value in new.items():
        if name not in old:
            changes[name] = ("create", value)
        elif old[name] != value:
            changes[name] = ("update", value)
    for name in old:
        if name not in new:
            changes[name] = ("delete", _GONE)
    return changes


def notify(top: Any, changes: Changes, *, since: float, origin: Any = None) -> None:
    """Evaluate what listens to ``changes``: event sub-process starts, then waiting events.

    ``origin`` is the (sub-)process whose step made the changes (None: the process).
    They are seen in every scope that shares its variables, as in Camunda: the
    process and its embedded and event sub-processes, not a called process (or
    what an origin inside a called process does not share). Only events that
    began to listen before ``since`` (the end of the step that made the changes)
    are evaluated: one that began during the step saw the new values on arrival.
    """
    sharing = _share_root(top if origin is None else origin)
    for scope in scopes(top):
        if _share_root(scope) is sharing and scope.task_tree.last_state_change < since:
            start_event_subprocesses(scope, changes)
    for task in list(top.event_manager.tasks.values()):
        if (task.state != TaskState.WAITING or not _conditional_definitions(task.task_spec)
                or task.internal_data.get(ARMED, 0.0) >= since
                or _share_root(task.workflow) is not sharing):
            continue
        _evaluate_waiting(task, changes)


def _share_root(workflow: Any) -> Any:
    """The outermost (sub-)process whose variables ``workflow`` shares."""
    top = workflow.top_workflow
    while workflow is not top:
        parent = top.get_task_from_id(workflow.parent_task_id)
        if parent is None or (getattr(parent.task_spec, "extensions", None) or {}).get("calls"):
            break
        workflow = parent.workflow
    return workflow


def _evaluate_waiting(task: Any, changes: Changes | None) -> None:
    """Evaluate a waiting task's conditional events on ``changes`` (None: whatever the
    task sees now, as on arrival)."""
    if changes:
        _remember(task, changes)
    refresh(task)
    seen = changes
    for definition in _conditional_definitions(task.task_spec):
        if seen is not None and not definition.listens_to(seen):
            continue
        try:
            holds = task_condition_holds(task, definition)
        except ConditionFailed as exc:
            fail(task, exc.message)
            return
        if holds:
            if definition is task.task_spec.event_definition:
                fire(task)
            else:
                catch(task, definition)
            return


def _remember(task: Any, changes: Changes) -> None:
    """Keep what a waiting event was told, for :func:`refresh`."""
    known = task.internal_data.setdefault(KNOWN, {"set": {}, "deleted": []})
    for name, (kind, value) in changes.items():
        if kind == "delete":
            known["set"].pop(name, None)
            if name not in known["deleted"]:
                known["deleted"].append(name)
        else:
            known["set"][name] = deepcopy(value)
            if name in known["deleted"]:
                known["deleted"].remove(name)


def refresh(task: Any) -> None:
    """Give a waiting event back what it was told since it began to wait.

    SpiffWorkflow updates every waiting task after each step and copies its
    parent's variables over its own then: a value another branch set since
    (``hooks.publish``) would go back to the one it had when the event was reached.
    """
    activity = attached_activity(task) if isinstance(task.task_spec, BoundaryEvent) else None
    if activity is not None:
        # An activity that runs is given every change made beside it (hooks.publish):
        # a boundary event sees the variables as the activity does, and what it was
        # told of changes inside a sub-process besides.
        task.data.update(deepcopy(activity.data))
    known = task.internal_data.get(KNOWN)
    if known:
        task.data.update(deepcopy(known["set"]))
        for name in known["deleted"]:
            task.data.pop(name, None)


def _arm_gateways(top: Any) -> None:
    """Evaluate, once, the conditional events of an event-based gateway that began to wait.

    SpiffWorkflow moves the events after the gateway into one multiple definition,
    whose arrival check knows only timers.
    """
    for task in list(top.event_manager.tasks.values()):
        if (task.state == TaskState.WAITING and ARMED not in task.internal_data
                and isinstance(task.task_spec.event_definition, MultipleEventDefinition)
                and _conditional_definitions(task.task_spec)):
            task.internal_data[ARMED] = time.time()
            _evaluate_waiting(task, None)


def _conditional_definitions(task_spec: Any) -> list[Any]:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, ConditionalEventDefinition):
        return [definition]
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions
                if isinstance(d, ConditionalEventDefinition)]
    return []


# -- an incident on a condition that raised -----------------------------------------------------

def failed(task: Any) -> bool:
    """Whether ``task`` is a conditional event whose condition raised."""
    return task.state == TaskState.ERROR and FAILED in task.internal_data


def retry(task: Any) -> None:
    """An incident's retry: listen again and evaluate the condition now."""
    task.internal_data.pop(FAILED, None)
    task.internal_data[ARMED] = time.time()
    task._set_state(TaskState.WAITING)
    task.workflow.top_workflow.event_manager.add_task(task)
    _evaluate_waiting(task, None)


# -- variables set from outside ---------------------------------------------------------------

def set_variables(top: Any, values: Mapping[str, Any], deletions: list[str]) -> None:
    """Set (and delete) process variables, as Camunda's ``setVariables`` on the instance.

    Every open task of the process and of the sub-processes that share its
    variables (embedded and event sub-processes, not called processes) gets them;
    then the conditional events that see the change are evaluated.
    """
    before = current_variables(top)
    now = time.time()
    for scope in _shared_scopes(top):
        publish(scope, dict(values))
        if deletions:
            for task in scope.tasks.values():
                local = instance_locals(task)
                if task.state & OPEN and local is not None:
                    for name in deletions:
                        if name not in local:
                            task.data.pop(name, None)
                    task.last_state_change = now
    changes: Changes = {name: ("update" if name in before else "create", value)
                        for name, value in values.items()
                        if name not in before or before[name] != value}
    changes.update({name: ("delete", _GONE) for name in deletions
                    if name in before and name not in values})
    if changes and uses_conditions(top):
        notify(top, changes, since=time.time())


def _shared_scopes(top: Any) -> Iterator[Any]:
    yield top
    for sub in top.subprocesses.values():
        if sub.completed:
            continue
        if all(not (getattr(t.task_spec, "extensions", None) or {}).get("calls")
               for t in _parent_tasks(top, sub)):
            yield sub


def _parent_tasks(top: Any, sub: Any) -> Iterator[Any]:
    while sub is not top and sub is not None:
        task = top.get_task_from_id(sub.parent_task_id)
        yield task
        sub = task.workflow
