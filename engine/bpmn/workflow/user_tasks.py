"""User tasks: the ready ones as the runtime shows them, and their completion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.util.task import TaskState

from .. import conditional, hooks
from .. import data as dataflow
from .incidents import TaskHookFailed, failure_message
from .records import UserTaskView
from .tasks import element_id

# The task attributes a task listener may set (engine.scripting.context.TaskObject).
_LISTENER_ATTRIBUTES = ("assignee", "priority", "dueDate", "followUpDate", "candidateGroups",
                        "candidateUsers")


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The user tasks waiting for a person, in the workflow and its subprocesses."""
    # Asked twice per command: a comprehension per task dict (no generator, no
    # property per task), ready ones being few.
    ready = TaskState.READY
    found = [t for t in workflow.tasks.values()
             if t._state == ready and isinstance(t.task_spec, UserTask)]
    for subprocess in workflow.subprocesses.values():
        found += [t for t in subprocess.tasks.values()
                  if t._state == ready and isinstance(t.task_spec, UserTask)]
    return found


def user_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    """The ready user task ``task_id``.

    :raises LookupError: when the instance has no user task of that id.
    :raises ValueError: when the user task is not ready.
    """
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError):
        task = None
    if task is None or not isinstance(task.task_spec, UserTask):
        raise LookupError(f"no user task {task_id} in this instance")
    if task.state != TaskState.READY:
        raise ValueError(f"user task {task_id} is {TaskState.get_name(task.state)}")
    return task


def complete(task: Any, data: Mapping[str, Any], failures: list[Exception]) -> None:
    """Complete the ready user task ``task`` with ``data``.

    What fails after the task completed is added to ``failures``, an incident
    for the next advance.

    :raises TaskHookFailed: when a ``complete`` task listener, an output
        mapping or an ``end`` listener of the task fails.
    """
    old = dict(task.data)
    task.data.update(data)
    try:
        task.run()
        dataflow.take_written(task)  # the completion's own history shows the form's values
        hooks.publish(task.workflow, hooks.changed_values(old, task.data), source=task)
        conditional.step_done(task, old)
    except Exception as exc:
        if task.state == TaskState.ERROR:
            raise TaskHookFailed(failure_message(exc)) from exc
        # The task completed; what failed after it (a multi-instance completion
        # condition, the next element) is an incident for the next advance.
        failing = getattr(exc, "task", None)
        if failing is not None and not failing.has_state(TaskState.FINISHED_MASK):
            failing._set_state(TaskState.ERROR)
        failures.append(exc)


def view(task: Any) -> UserTaskView:
    """A ready user task in the engine's terms, with what its listeners changed."""
    spec = task.task_spec
    ext = getattr(spec, "extensions", None) or {}
    camunda = ext.get("camunda", {})
    changes = task.internal_data.get(hooks.TASK_CHANGES)
    title = spec.bpmn_name
    if changes:  # what task listeners set replaces the diagram's attributes
        camunda = {**camunda, **{key: _attribute_text(value) for key, value in changes.items()
                                 if key in _LISTENER_ATTRIBUTES}}
        title = changes.get("name") or title
    return UserTaskView(
        id=str(task.id),
        element_id=element_id(task) or spec.name,
        title=title,
        lane=spec.lane,
        camunda=camunda,
        properties=ext.get("properties", {}),
        form_fields=ext.get("formFields", []),
        data=task.data,
    )


def _attribute_text(value: Any) -> str:
    """A listener's value as the diagram would write the attribute."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)
