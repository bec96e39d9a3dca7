"""What runs at an element's start and end: Camunda's input/output mappings and listeners.

At the start (:func:`run_start`, when the task becomes ready): the task's
ioSpecification inputs are checked, the input mappings set, then the ``start``
execution listeners run, and for a user task the ``create`` task listeners and,
when it has an assignee, the ``assignment`` ones. At the end (:func:`run_end`,
after the task's own work): the ioSpecification outputs are checked, the
``complete`` task listeners run, the output mappings are read in the task's
scope, the ``end`` execution listeners run; then the input variables leave the
process data again (they were local to the element), and the outputs are set.

Expressions and scripts run in the sandbox, with Camunda's ``execution`` and
``task`` objects (:mod:`engine.scripting.context`, given :func:`context_info`).
A failure at the start leaves the task failed and is reported to the engine
through the script engine (SpiffWorkflow would otherwise abandon its sibling
tasks half-updated); a failure at the end fails the task where SpiffWorkflow
catches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.util.task import TaskState

from ..data.io_specification import IO, io_end, io_start

HOOK_KEYS = ("inputs", "outputs", "listeners", IO)
# Keys of a task's internal data.
LOCALS = "sertiflow_locals"  # {"names": [...], "shadowed": {name: value}}
TASK_CHANGES = "sertiflow_task"  # what task listeners set (assignee, due date...)
STARTED = "sertiflow_started"  # the start hooks ran to their end


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
