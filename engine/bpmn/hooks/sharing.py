"""One set of variables per instance, as Camunda keeps them.

SpiffWorkflow keeps the variables per task and copies them along the flow, so
parallel branches, embedded sub-processes and event subprocesses would each
work on their own copy, and a join would keep one of them. Here every change a
step makes reaches every open task (:func:`publish`), a join goes on with the
variables of the step that finished last (:func:`join_variables`), and an
embedded or event sub-process gives back what it changed (:func:`changed_values`
against what it started with, kept under :data:`SEEN`). The instances of a
multi-instance activity keep their own element variable (:func:`instance_locals`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from copy import copy, deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from ..data.associations import without_data_objects

SEEN = "sertiflow_seen"  # the variables an event subprocess started with


def changed_values(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The variables of ``after`` that are new or differ from ``before``."""
    return {k: v for k, v in after.items() if k not in before or before[k] != v}


def inner_changes(task: Any) -> dict[str, Any]:
    """What the inside of a running embedded sub-process task has set so far."""
    sub = embedded_subworkflow(task)
    seen = task.internal_data.get(SEEN)
    if sub is None or seen is None:
        return {}
    return deepcopy(changed_values(seen, current_variables(sub)))


_HOLDING = (TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
            | TaskState.COMPLETED)
# A task that has not finished (event_subprocesses ends such tasks too).
OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def current_variables(workflow: Any) -> dict[str, Any]:
    """The variables of ``workflow`` as its most recent step left them."""
    definite = [t for t in workflow.tasks.values() if t.state & _HOLDING and t.data]
    latest = max(definite, key=lambda t: t.last_state_change, default=workflow.task_tree)
    return {**without_data_objects(workflow.data), **latest.data}


def take_join_variables(workflow: Any, join: Any) -> None:
    """A join's completion, before what follows it inherits its data."""
    joined = join_variables(join)
    if joined is not None:
        join.data = joined


def join_variables(join: Any) -> dict[str, Any] | None:
    """The variables a join goes on with: those of the step that finished last.

    SpiffWorkflow's join takes the data of the branch it waited in and merges
    the others into it (lists item by item), which is not Camunda's one set of
    variables. Every change reaches every open task (:func:`publish`), so the
    task of the workflow that completed last holds them all. None when no other
    task has completed (nothing to take).
    """
    latest = None
    for task in join.workflow.tasks.values():
        if (task is join or task.state != TaskState.COMPLETED or not task.data
                or isinstance(task.task_spec, Join)):
            continue
        if latest is None or task.last_state_change > latest.last_state_change:
            latest = task
    if latest is None:
        return None
    local = instance_locals(latest) or _NONE
    # Top-level containers copied, their contents shared, as SpiffWorkflow hands
    # data from a task to the next: a deep copy of a large variable at every join
    # (the process's end is one) cost more than the rest of the completion.
    return {k: copy(v) if isinstance(v, dict | list | set) else v
            for k, v in latest.data.items() if k not in local}


def publish(workflow: Any, changes: dict[str, Any], source: Any = None) -> None:
    """Give ``changes`` to every task of ``workflow`` that has not finished.

    Camunda keeps one set of variables per instance; SpiffWorkflow one per task,
    copied along the flow, so parallel branches and event subprocesses would
    each work on their own copy and the join keep one of them. What a task
    (``source``) or an event subprocess sets reaches the rest of the process
    this way. The instances of a multi-instance activity share too, but each
    keeps its own element variable (:mod:`engine.bpmn.multiinstance`).
    """
    if source is not None:
        own = instance_locals(source)
        if own is None:
            return
        changes = {k: v for k, v in changes.items() if k not in own}
    if not changes:
        return
    # The tasks that follow the source have its data already (and may have changed
    # it since: their start listeners ran when they became ready); only those open
    # before it finished get the changes.
    before = source.last_state_change if source is not None else None
    now = time.time()
    for task in workflow.tasks.values():
        if task is source or not task.state & OPEN:
            continue
        if before is not None and not (_shares(task) and task.last_state_change < before):
            continue
        local = instance_locals(task)
        if local is None:
            continue
        given = {k: deepcopy(v) for k, v in changes.items() if k not in local}
        if given:
            task.data.update(given)
            # Its predicted children store their data relative to it: the saved
            # state's memo (engine.bpmn.serializer) must see it changed.
            task.last_state_change = now
            inner = embedded_subworkflow(task)
            if inner is not None:  # the tasks running inside it share them too
                publish(inner, given)


def embedded_subworkflow(task: Any) -> Any:
    """The running subworkflow of an embedded sub-process task (not a call activity,
    whose variables are its own), else None."""
    extensions = getattr(task.task_spec, "extensions", None) or {}
    if (task.state != TaskState.STARTED or extensions.get("calls")
            or not isinstance(task.task_spec, CallActivity)):
        return None
    return task.workflow.top_workflow.subprocesses.get(task.id)


def _shares(task: Any) -> bool:
    """Whether ``task`` takes part in the instance's variables when it is open.

    A join (gateway join, the process's end join) takes its data from the
    branches it merges when it fires, so what a step sets reaches it then;
    giving it each change on the way would only store the variables once more.
    (An event subprocess, which is no branch, gives its changes to joins too.)
    """
    return not isinstance(task.task_spec, Join)


_NONE: frozenset[str] = frozenset()


def instance_locals(task: Any) -> frozenset[str] | None:
    """The variables ``task`` keeps to itself as an instance of a loop.

    Empty outside loops. ``None`` for an instance of SpiffWorkflow's own
    multi-instance specs (definitions deployed before sertiflow had its own),
    whose instances keep all their variables apart.
    """
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, LoopTask):
        return _NONE
    local_names = getattr(parent.task_spec, "local_names", None)
    if local_names is not None:
        return frozenset(local_names())
    if not hasattr(parent.task_spec, "data_input"):  # a standard loop
        return _NONE
    return None
