"""Camunda 7's input/output mappings and listeners, run at an element's start and end.

The parser keeps them in each task spec's ``extensions`` (see
:func:`engine.bpmn.parser.read_mappings_and_listeners`); :func:`install` turns
them into two hooks SpiffWorkflow already calls on every task spec:

- ``pre_assign`` runs when the task becomes ready: the input mappings, then
  the ``start`` execution listeners, then, for a user task, the ``create`` task
  listeners and, when the task has an assignee, the ``assignment`` ones;
- ``post_assign`` runs after the task's own work, before it completes: the
  ``complete`` task listeners, the output mappings (read in the task's scope),
  the ``end`` execution listeners; then the input variables leave the process
  data again (they were local to the element), and the outputs are set.

A sub-process or call activity never becomes ready before its end, so its
start runs when it starts its child workflow (:class:`MappedCallActivity`),
which also applies ``camunda:in``/``camunda:out``.

Expressions and scripts run in the sandbox, with Camunda's ``execution`` and
``task`` objects (:mod:`engine.scripting.context`). A failure at the start
leaves the task failed and is reported to the engine through the script
engine (SpiffWorkflow would otherwise abandon its sibling tasks half-updated);
a failure at the end fails the task where SpiffWorkflow catches it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, StartEvent, UserTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .data.associations import without_data_objects
from .data.io_specification import IO, SubprocessNotStarted, io_end, io_start

HOOK_KEYS = ("inputs", "outputs", "listeners", IO)
# Keys of a task's internal data.
LOCALS = "sertiflow_locals"  # {"names": [...], "shadowed": {name: value}}
TASK_CHANGES = "sertiflow_task"  # what task listeners set (assignee, due date...)
STARTED = "sertiflow_started"  # the start hooks ran to their end
_MISSING = object()


def has_hooks(extensions: Mapping[str, Any] | None) -> bool:
    return bool(extensions) and any(extensions.get(k) for k in HOOK_KEYS)  # type: ignore[union-attr]


class StartHooks:
    """A ``pre_assign`` entry: SpiffWorkflow calls ``assign`` when the task is ready."""

    def assign(self, task: Any, _target: Any) -> None:
        run_start(task)


class EndHooks:
    """A ``post_assign`` entry: called after the task's work, before it completes."""

    def assign(self, task: Any, _target: Any) -> None:
        run_end(task)


class ProcessStartHooks:
    """The process's own ``start`` listeners, on SpiffWorkflow's start task.

    They run when that task runs, after the start variables are in its data.
    """

    def assign(self, task: Any, _target: Any) -> None:
        _listeners(task, "execution", "start")


def install(spec: Any) -> None:
    """Give every task spec of a process spec that has mappings or listeners its hooks,
    and every join the instance's variables (:func:`join_variables`)."""
    wire = getattr(spec.start, "wire_triggers", None)
    if wire is not None:  # specs.IsolatedStartTask
        wire()
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, Join) and not task_spec.completed_event.is_connected(
                _take_join_variables):
            task_spec.completed_event.connect(_take_join_variables)
        if not has_hooks(getattr(task_spec, "extensions", None)):
            continue
        if isinstance(task_spec, BpmnStartTask):
            task_spec.post_assign = [ProcessStartHooks()]
            continue
        if not isinstance(task_spec, CallActivity):  # which starts in start_workflow
            task_spec.pre_assign = [StartHooks()]
        task_spec.post_assign = [EndHooks()]


def failed_at_start(task: Any) -> bool:
    """Whether ``task`` failed in its start hooks (and so never began its work)."""
    return (task.state == TaskState.ERROR and bool(task.task_spec.pre_assign
            or isinstance(task.task_spec, MappedCallActivity))
            and has_hooks(getattr(task.task_spec, "extensions", None))
            and not task.internal_data.get(STARTED))


def restart(task: Any) -> None:
    """Run the start of a task that failed there again (an incident's retry)."""
    spec = task.task_spec
    if isinstance(spec, MappedCallActivity):
        if run_start(task):
            CallActivity.start_workflow(spec, task)
            task._set_state(TaskState.STARTED)
        return
    task._set_state(TaskState.READY)
    run_start(task)


def run_process_end(workflow: Any) -> None:
    """Run the process's own ``end`` listeners once, on the task that holds its final data."""
    start = workflow.spec.task_specs.get("Start")
    listeners = [entry for entry in (getattr(start, "extensions", None) or {}).get(
        "listeners", []) if entry["scope"] == "execution" and entry["event"] == "end"]
    root = workflow.task_tree
    if not listeners or root.internal_data.get("sertiflow_ended"):
        return
    holding = max((t for t in workflow.tasks.values() if t.state == TaskState.COMPLETED),
                  key=lambda t: t.last_state_change, default=root)
    holding.internal_data["sertiflow_process_end"] = True
    _listeners(holding, "execution", "end", listeners)
    root.internal_data["sertiflow_ended"] = True


# -- the two phases ------------------------------------------------------------------

def run_start(task: Any) -> bool:
    """Run the start hooks of ``task``; on failure, fail the task and tell the engine.

    Returns whether they ran to their end.
    """
    try:
        _start(task)
    except Exception as exc:
        task._set_state(TaskState.ERROR)
        _report(task, _as_task_error(task, exc))
        return False
    task.internal_data[STARTED] = True
    return True


def _start(task: Any) -> None:
    io_start(task)
    extensions = task.task_spec.extensions
    inputs = extensions.get("inputs") or []
    if inputs:
        values = [(p["name"], _value(task, p.get("value"), f"input '{p['name']}'"))
                  for p in inputs]
        shadowed = {name: task.data[name] for name, _ in values if name in task.data}
        task.internal_data[LOCALS] = {"names": [name for name, _ in values],
                                      "shadowed": deepcopy(shadowed)}
        for name, value in values:
            task.data[name] = value
    _listeners(task, "execution", "start")
    if isinstance(task.task_spec, UserTask):
        _listeners(task, "task", "create")
        if _task_info(task).get("assignee"):
            _listeners(task, "task", "assignment")


def run_end(task: Any) -> None:
    """Run the end hooks of ``task``; a failure propagates (SpiffWorkflow fails the task)."""
    io_end(task)
    extensions = task.task_spec.extensions
    if isinstance(task.task_spec, UserTask):
        _listeners(task, "task", "complete")
    outputs = [(p["name"], _value(task, p.get("value"), f"output '{p['name']}'"))
               for p in extensions.get("outputs") or []]
    _listeners(task, "execution", "end")
    local = task.internal_data.pop(LOCALS, None)
    if local:
        for name in local["names"]:
            task.data.pop(name, None)
        task.data.update(local["shadowed"])
    for name, value in outputs:
        task.data[name] = value


def _report(task: Any, error: WorkflowTaskException) -> None:
    failures = getattr(task.workflow.script_engine, "hook_failures", None)
    if failures is None:
        raise error
    failures.append(error)


def _as_task_error(task: Any, exc: Exception) -> WorkflowTaskException:
    if isinstance(exc, WorkflowTaskException):
        return exc
    return WorkflowTaskException(f"{type(exc).__name__}: {exc}", task=task, exception=exc)


# -- mappings --------------------------------------------------------------------------

def _value(task: Any, value: Any, what: str) -> Any:
    """Evaluate a parameter value (constant, template, list, map or script) on the task."""
    if value is None:
        return None
    if "text" in value:
        return _engine(task).evaluate_template(task, value["text"], what=what,
                                               context=context_info(task))
    if "list" in value:
        return [_value(task, item, what) for item in value["list"]]
    if "map" in value:
        return {str(key): _value(task, item, what) for key, item in value["map"]}
    if "script" in value:
        return _engine(task).script_value(task, value["script"], what=what,
                                          context=context_info(task))
    return None


# -- listeners -------------------------------------------------------------------------

def _listeners(task: Any, scope: str, event: str,
               listeners: list[Mapping[str, Any]] | None = None) -> None:
    if listeners is None:
        listeners = task.task_spec.extensions.get("listeners") or []
    for listener in listeners:
        if listener["scope"] != scope or listener["event"] != event:
            continue
        what = f"{scope} listener '{event}'"
        context = context_info(task, event)
        if "script" in listener:
            effects = _engine(task).run_listener_script(task, listener["script"], what=what,
                                                        context=context)
        else:
            effects = _engine(task).run_listener_expression(task, listener["expression"],
                                                            what=what, context=context)
        _apply_effects(task, effects)


def _apply_effects(task: Any, effects: Mapping[str, Any]) -> None:
    names = effects.get("locals") or []
    if names:
        local = task.internal_data.setdefault(LOCALS, {"names": [], "shadowed": {}})
        for name in names:
            if name not in local["names"]:
                local["names"].append(name)
    changes = effects.get("task")
    if changes:
        task.internal_data[TASK_CHANGES] = {**task.internal_data.get(TASK_CHANGES, {}),
                                            **changes}


def context_info(task: Any, event: str | None = None) -> dict[str, Any]:
    """What ``execution`` (and, for a user task, ``task``) say about the running task."""
    engine = task.workflow.script_engine
    spec = task.task_spec
    now = engine.now() if hasattr(engine, "now") else None
    info: dict[str, Any] = {
        "processInstanceId": getattr(engine, "instance_id", None),
        "businessKey": getattr(engine, "business_key", None),
        "processDefinitionId": task.workflow.spec.name,
        "activityId": getattr(spec, "bpmn_id", None),
        "activityName": getattr(spec, "bpmn_name", None),
        "activityInstanceId": str(task.id),
        "eventName": event,
        "now": now.isoformat() if now is not None else None,
    }
    if isinstance(spec, UserTask):
        info["task"] = {**_task_info(task), "eventName": event}
    return info


def _task_info(task: Any) -> dict[str, Any]:
    """The user task as Camunda's DelegateTask shows it: literal attributes and changes."""
    camunda = (task.task_spec.extensions or {}).get("camunda", {})

    def literal(name: str) -> str | None:
        text = camunda.get(name)
        return None if not text or "${" in text or "#{" in text else text

    def names(name: str) -> list[str]:
        return [n.strip() for n in (literal(name) or "").split(",") if n.strip()]

    info: dict[str, Any] = {
        "id": str(task.id), "name": task.task_spec.bpmn_name,
        "taskDefinitionKey": getattr(task.task_spec, "bpmn_id", None),
        "assignee": literal("assignee"), "priority": literal("priority"),
        "dueDate": literal("dueDate"), "followUpDate": literal("followUpDate"),
        "candidateGroups": names("candidateGroups"),
        "candidateUsers": names("candidateUsers"),
        "description": task.task_spec.documentation,
    }
    info.update(task.internal_data.get(TASK_CHANGES, {}))
    return info


def _engine(task: Any) -> Any:
    return task.workflow.script_engine


# -- sub-processes and call activities -----------------------------------------------

class MappedCallActivity(CallActivity):
    """A sub-process or call activity that runs its start hooks and Camunda's in/out mappings.

    As in Camunda, an embedded sub-process shares every variable, and a call
    activity passes exactly what its ``camunda:in``/``camunda:out`` name:
    ``source``/``sourceExpression`` to ``target``, or ``variables="all"``;
    without them, nothing. ``local="true"`` reads only the element's own
    (input-mapped) variables. ``businessKey`` has nothing to do: the called
    process runs inside the same instance and shares its key. (Definitions
    deployed before call activities were told apart keep passing everything.)
    """

    def start_workflow(self, my_task: Any) -> None:
        if has_hooks(getattr(self, "extensions", None)) and not run_start(my_task):
            raise _StartFailed()
        super().start_workflow(my_task)

    def _update_hook(self, my_task: Any) -> Any:
        try:
            return super()._update_hook(my_task)
        except (_StartFailed, SubprocessNotStarted):
            return False  # the task failed; the engine was told why

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        extensions = getattr(self, "extensions", None) or {}
        mappings = extensions.get("callIn") or []
        if extensions.get("eventSubprocess"):
            # It starts beside the process, not after a task: it sees the variables
            # as the process holds them now, and gives back what it changes.
            now = deepcopy(current_variables(my_task.workflow))
            my_task.internal_data[SEEN] = now
            start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True,
                                              spec_name="Start")
            start.set_data(**deepcopy(now))
            return
        if not extensions.get("calls"):
            super().copy_data(my_task, subworkflow)
            # What it started with, to give back only what it changed (update_data).
            my_task.internal_data[SEEN] = deepcopy(my_task.data)
            return
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True,
                                          spec_name="Start")
        start.set_data(**mapped_variables(my_task, mappings, my_task.data))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        extensions = getattr(self, "extensions", None) or {}
        mappings = extensions.get("callOut") or []
        if extensions.get("eventSubprocess"):
            final = deepcopy(subworkflow.last_task.data)
            seen = my_task.internal_data.pop(SEEN, {})
            changes = changed_values(seen, final)
            my_task.data = final
            publish(my_task.workflow, changes)
            return
        if not extensions.get("calls"):
            seen = my_task.internal_data.pop(SEEN, None)
            if seen is None:  # begun before sertiflow kept what it started with
                super().update_data(my_task, subworkflow)
                return
            # An embedded sub-process shares the variables: what it changed joins
            # what other branches changed meanwhile (they gave it to this task).
            final = deepcopy(subworkflow.last_task.data)
            changes = changed_values(seen, final)
            my_task.data.update(changes)
            publish(my_task.workflow, changes)
            return
        returned = deepcopy(subworkflow.last_task.data)
        my_task.data.update(mapped_variables(my_task, mappings, returned))


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
_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def current_variables(workflow: Any) -> dict[str, Any]:
    """The variables of ``workflow`` as its most recent step left them."""
    definite = [t for t in workflow.tasks.values() if t.state & _HOLDING and t.data]
    latest = max(definite, key=lambda t: t.last_state_change, default=workflow.task_tree)
    return {**without_data_objects(workflow.data), **latest.data}


def _take_join_variables(workflow: Any, join: Any) -> None:
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
    local = _instance_locals(latest) or _NONE
    return {k: deepcopy(v) for k, v in latest.data.items() if k not in local}


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
        own = _instance_locals(source)
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
        if task is source or not task.state & _OPEN:
            continue
        if before is not None and not (_shares(task) and task.last_state_change < before):
            continue
        local = _instance_locals(task)
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


def _instance_locals(task: Any) -> frozenset[str] | None:
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


class _StartFailed(Exception):
    """The start hooks of a sub-process failed; the task is failed already."""


def mapped_variables(task: Any, mappings: Sequence[Mapping[str, Any]], source: Mapping[str, Any]
                     ) -> dict[str, Any]:
    """The variables ``camunda:in``/``camunda:out`` entries carry from ``source``."""
    local_names = set((task.internal_data.get(LOCALS) or {}).get("names", []))
    result: dict[str, Any] = {}
    for mapping in mappings:
        local = str(mapping.get("local", "")).lower() == "true"
        if mapping.get("variables") == "all":
            result.update({k: deepcopy(v) for k, v in source.items()
                           if not local or k in local_names})
        elif mapping.get("source"):
            name = str(mapping["source"])
            if name in source:
                result[str(mapping.get("target") or name)] = deepcopy(source[name])
        elif mapping.get("sourceExpression"):
            value = _engine(task).evaluate_template(
                task, str(mapping["sourceExpression"]), what="camunda:in/out sourceExpression",
                context=context_info(task), data=source)
            result[str(mapping.get("target"))] = value
    return result


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
        if _interrupting(workflow, task.task_spec):
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
        if other.id not in keep and other.state & _OPEN:
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
            if not task.state & _OPEN or (
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


INTERRUPTED = "sertiflow_interrupted"  # an event subprocess whose start was handled
_FIRED = TaskState.READY | TaskState.COMPLETED  # a start event that caught its event


def is_interrupting(workflow: Any, spec: Any) -> bool:
    """Whether the start event of an event subprocess spec interrupts its scope."""
    return _interrupting(workflow, spec)


def instance_locals(task: Any) -> frozenset[str] | None:
    """The variables ``task`` keeps to itself as an instance of a loop (None: all)."""
    return _instance_locals(task)


def _interrupting(workflow: Any, spec: Any) -> bool:
    """Whether the start event of an event subprocess spec interrupts its scope."""
    sub_spec = workflow.subprocess_specs.get(spec.spec)
    starts = getattr(sub_spec, "bpmn_start_events", None) or []
    return all((getattr(start, "extensions", None) or {}).get("interrupting", True)
               for start in starts)
