"""Event subprocesses and their scope: interrupting it, and ending those never started.

SpiffWorkflow starts an event subprocess beside the rest of its scope and lets
both run on, and keeps one that waits for its event as a branch of its own, so
the scope's end would wait for it. Camunda ends the rest of the scope when an
interrupting one starts (:func:`interrupt_scopes`, :func:`cancel_scope`), and
ends the scope, with the event subprocesses that never started, when its flow
has ended (:func:`end_idle_event_subprocesses`).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .sharing import OPEN

INTERRUPTED = "sertiflow_interrupted"  # an event subprocess whose start was handled
_FIRED = TaskState.READY | TaskState.COMPLETED  # a start event that caught its event


def interrupt_scopes(workflow: Any) -> bool:
    """End what an interrupting event subprocess interrupts; tell whether anything was.

    SpiffWorkflow starts an event subprocess beside the rest of its scope and
    lets both run on. When the start event of an interrupting one has fired,
    every other open task of its scope is cancelled here (other event
    subprocesses included: the scope ends with this one), once.
    """
    interrupted = False
    if not has_event_subprocesses(workflow):
        return False
    for task in [*workflow.tasks.values(),
                 *(t for sub in workflow.subprocesses.values() for t in sub.tasks.values())]:
        extensions = getattr(task.task_spec, "extensions", None) or {}
        if (not extensions.get("eventSubprocess")
                or task.state not in (TaskState.STARTED, TaskState.COMPLETED)
                or task.internal_data.get(INTERRUPTED)):
            continue
        if task.state == TaskState.STARTED and not _has_fired(workflow, task):
            continue  # begun, but its start event has not caught its event yet
        task.internal_data[INTERRUPTED] = True
        if is_interrupting(workflow, task.task_spec):
            interrupted = cancel_scope(task) or interrupted
    return interrupted


def cancel_scope(task: Any) -> bool:
    """Cancel every open task of the scope of event sub-process ``task`` but it.

    Returns whether anything was cancelled.
    """
    keep = {task.id}
    parent = task.parent
    while parent is not None:
        keep.add(parent.id)
        parent = parent.parent
    cancelled = False
    for other in list(task.workflow.tasks.values()):
        if other.id not in keep and other.state & OPEN:
            other.cancel()
            cancelled = True
    return cancelled


def end_idle_event_subprocesses(workflow: Any) -> bool:
    """End the event subprocesses still waiting for their event once the rest of
    their scope has finished; tell whether any was.

    In Camunda a process (or sub-process) whose flow has ended completes: its
    event subprocesses that never started stop listening. SpiffWorkflow keeps a
    timer event subprocess waiting as a branch of its own, so the end would wait
    for a timer that may never matter. One that has begun keeps its scope open
    until it ends, as in Camunda.
    """
    ended = False
    if not has_event_subprocesses(workflow):
        return False
    for scope in [workflow, *workflow.subprocesses.values()]:
        idle: list[Any] = []
        for task in scope.tasks.values():
            if not task.state & OPEN or (
                    task.state == TaskState.WAITING and isinstance(task.task_spec, Join)):
                continue  # not at work: done, still to come, or the end waiting
            extensions = getattr(task.task_spec, "extensions", None) or {}
            if not extensions.get("eventSubprocess") or _has_fired(workflow, task):
                idle = []
                break  # the scope is still at work
            idle.append(task)
        for task in idle:
            task.cancel()
            ended = True
        if idle:
            for join in [t for t in scope.tasks.values()
                         if t.state == TaskState.WAITING and isinstance(t.task_spec, Join)]:
                join.task_spec._update(join)
    return ended


def has_event_subprocesses(workflow: Any) -> bool:
    """Whether the process or anything it calls has an event subprocess (worked out
    once per definition; most have none, and the scans above are then skipped)."""
    spec = workflow.spec
    found: bool | None = getattr(spec, "_sertiflow_event_subprocesses", None)
    if found is None:
        found = any((getattr(task_spec, "extensions", None) or {}).get("eventSubprocess")
                    for process in (spec, *workflow.subprocess_specs.values())
                    for task_spec in process.task_specs.values())
        spec._sertiflow_event_subprocesses = found
    return found


def _has_fired(workflow: Any, task: Any) -> bool:
    """Whether the start event of an event subprocess task has caught its event."""
    sub = workflow.subprocesses.get(task.id)
    return any(isinstance(t.task_spec, StartEvent) and t.state & _FIRED
               for t in (sub.tasks.values() if sub is not None else ()))


def is_interrupting(workflow: Any, spec: Any) -> bool:
    """Whether the start event of an event subprocess spec interrupts its scope."""
    sub_spec = workflow.subprocess_specs.get(spec.spec)
    starts = getattr(sub_spec, "bpmn_start_events", None) or []
    return all((getattr(start, "extensions", None) or {}).get("interrupting", True)
               for start in starts)
