"""The hooks put on a process spec, and a start that failed run again.

:func:`install` gives the task specs SpiffWorkflow's ``pre_assign`` and
``post_assign`` hooks (:mod:`.start_end`) and every join the instance's
variables (:mod:`.sharing`); :func:`failed_at_start` and :func:`restart` are an
incident's view of a task whose start hooks failed.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BpmnStartTask
from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .call_activity import MappedCallActivity
from .sharing import take_join_variables
from .start_end import STARTED, EndHooks, ProcessStartHooks, StartHooks, has_hooks, run_start


def install(spec: Any) -> None:
    """Give every task spec of a process spec that has mappings or listeners its hooks,
    and every join the instance's variables (:func:`.sharing.join_variables`)."""
    wire = getattr(spec.start, "wire_triggers", None)
    if wire is not None:  # specs.IsolatedStartTask
        wire()
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, Join) and not task_spec.completed_event.is_connected(
                take_join_variables):
            task_spec.completed_event.connect(take_join_variables)
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
