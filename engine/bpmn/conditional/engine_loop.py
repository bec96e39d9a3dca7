"""The engine's loop: SpiffWorkflow's ``do_engine_steps``, without the tasks an
interrupting event ended meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.util.task import TaskState

from ..live_workflow import ready_tasks

Callback = Callable[[Any], None]


def run_engine_steps(workflow: Any, will_complete: Callback, did_complete: Callback) -> None:
    """Run every ready engine task, sub-processes first, until none is left.

    What SpiffWorkflow's ``do_engine_steps`` does, except that a task that was
    ready when a round began and has been ended since (an interrupting event
    fired meanwhile) is not run.
    """
    while _one_round(workflow, will_complete, did_complete):
        pass
    workflow.refresh_timers()


def _one_round(workflow: Any, will_complete: Callback, did_complete: Callback) -> bool:
    active = sorted(workflow.get_active_subprocesses(), key=lambda sub: sub.depth,
                    reverse=True)
    for sub in active:
        while _run_ready(sub, will_complete, did_complete):
            pass
        if sub.parent_task_id is not None:
            parent = workflow.get_task_from_id(sub.parent_task_id)
            parent.task_spec._update(parent)
    ran = _run_ready(workflow, will_complete, did_complete)
    return ran or len(workflow.get_active_subprocesses()) > len(active)


def _run_ready(workflow: Any, will_complete: Callback, did_complete: Callback) -> bool:
    ran = False
    for task in ready_tasks(workflow):
        if task.state != TaskState.READY or task.task_spec.manual:
            continue
        will_complete(task)
        task.run()
        did_complete(task)
        ran = True
    return ran
