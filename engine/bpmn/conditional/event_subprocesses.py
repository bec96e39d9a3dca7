"""The conditional start events of event sub-processes: evaluated when their scope
begins and after each change it sees, and the event sub-process started when one
holds."""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BpmnStartTask, StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from ..hooks.event_subprocesses import INTERRUPTED, cancel_scope, is_interrupting
from ..hooks.sharing import SEEN
from ..hooks.start_end import context_info
from .evaluation import TRIGGERED, Changes, ConditionFailed, condition_holds, report
from .firing import fire, runaway_message, too_often


def begins_scope(task: Any) -> bool:
    """Whether ``task`` is the first step of its process or sub-process."""
    workflow = task.workflow
    if workflow is workflow.top_workflow:
        return isinstance(task.task_spec, BpmnStartTask)
    return (task.parent is workflow.task_tree
            and isinstance(task.task_spec, StartEvent | StartEventSplit))


def scopes(top: Any) -> list[Any]:
    """The process and its running sub-processes, outermost first."""
    return [top, *sorted(top.get_active_subprocesses(), key=lambda sub: sub.depth)]


def _triggers(workflow: Any) -> list[tuple[str, Any, Any, bool]]:
    """(spec name, start event spec, definition, interrupting) of each conditional start
    event of the event sub-processes of ``workflow``'s (sub-)process (cached on its spec)."""
    spec = workflow.spec
    cached = getattr(spec, "_sertiflow_conditional_triggers", None)
    if cached is None:
        cached = []
        for name in spec.start.trigger_specs:
            sub_spec = workflow.top_workflow.subprocess_specs.get(name)
            for start in getattr(sub_spec, "bpmn_start_events", None) or []:
                definition = start.event_definition
                if isinstance(definition, ConditionalEventDefinition):
                    interrupting = (getattr(start, "extensions", None) or {}).get(
                        "interrupting", True)
                    cached.append((name, start, definition, bool(interrupting)))
        spec._sertiflow_conditional_triggers = cached
    return list(cached)


def start_event_subprocesses(scope: Any, changes: Changes | None) -> None:
    """Start the conditional event sub-processes of ``scope`` whose condition holds.

    ``changes`` None: the scope begins, every condition is evaluated.
    """
    triggers = _triggers(scope)
    if not triggers or _interrupted(scope):
        return
    variables = scope_variables(scope, changes)
    seen = changes
    for name, start, definition, interrupting in triggers:
        if seen is not None and not definition.listens_to(seen):
            continue
        context = {**context_info(scope.task_tree), "activityId": start.bpmn_id,
                   "activityName": start.bpmn_name}
        try:
            holds = condition_holds(scope.script_engine.sandbox, definition.expression,
                                    variables, context)
        except ConditionFailed as exc:
            report(scope.task_tree, exc.message, start.bpmn_id)
            return
        if not holds:
            continue
        if not interrupting and too_often(scope.task_tree, start.bpmn_id):
            report(scope.task_tree, runaway_message(start.bpmn_id), start.bpmn_id)
            return
        _start_event_subprocess(scope, name, interrupting, variables)
        if interrupting:
            return


def scope_variables(scope: Any, changes: Changes | None = None) -> dict[str, Any]:
    """The variables of a (sub-)process as its latest step left them, with ``changes``.

    A waiting task does not count: SpiffWorkflow copies its parent's (older)
    variables over its own after each step.
    """
    holding = TaskState.READY | TaskState.STARTED | TaskState.ERROR | TaskState.COMPLETED
    latest = max((t for t in scope.tasks.values() if t.state & holding and t.data),
                 key=lambda t: t.last_state_change, default=scope.task_tree)
    variables = {**scope.data, **latest.data}
    for name, (kind, value) in (changes or {}).items():
        if kind == "delete":
            variables.pop(name, None)
        else:
            variables[name] = value
    return variables


def _start_event_subprocess(scope: Any, name: str, interrupting: bool,
                            variables: Mapping[str, Any]) -> None:
    """Start event sub-process ``name`` in ``scope`` with ``variables``, its start event
    fired.

    As SpiffWorkflow's ``trigger_wf``, without connecting the shared spec (which
    would start the event sub-process with every later instance of the process).
    The scope's end waits for it: it gets an end join of its own.
    """
    task_spec = scope.spec.task_specs[name]
    if not task_spec.inputs:
        # SpiffWorkflow runs no task whose spec has no input; an input alone does
        # not make the start task start it.
        task_spec._connect_notify(scope.spec.start)
    child = scope.task_tree._add_child(task_spec, TaskState.FUTURE)
    child.triggered = True
    child.internal_data[TRIGGERED] = True
    # Not spec.end: a restored spec keeps there the end join it replaced.
    end_join = scope.spec.task_specs[f"{scope.spec.name}.EndJoin"]
    end = child._add_child(end_join, TaskState.FUTURE)
    end.task_spec._predict(end, mask=TaskState.NOT_FINISHED_MASK)
    child.task_spec._update(child)
    sub = scope.top_workflow.subprocesses.get(child.id)
    if sub is not None:
        # It starts with the variables its condition held on (MappedCallActivity took
        # them from the scope's latest task, which may be a waiting one), and its
        # start event goes whatever it made of them.
        child.internal_data[SEEN] = deepcopy(dict(variables))
        for task in sub.tasks.values():
            if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
                continue  # inherits when it is reached (merging lists into its own)
            task.data.update(deepcopy(dict(variables)))
            if isinstance(task.task_spec, StartEvent) and task.state == TaskState.WAITING:
                fire(task)
    if interrupting:
        child.internal_data[INTERRUPTED] = True
        cancel_scope(child)


def _interrupted(scope: Any) -> bool:
    """Whether an interrupting event sub-process took ``scope`` over."""
    for task in scope.task_tree.children:
        extensions = getattr(task.task_spec, "extensions", None) or {}
        if (extensions.get("eventSubprocess") and task.internal_data.get(INTERRUPTED)
                and is_interrupting(scope.top_workflow, task.task_spec)):
            return True
    return False
