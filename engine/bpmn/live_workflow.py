"""The workflow class sertiflow runs instances in: SpiffWorkflow's, with cheaper questions.

SpiffWorkflow predicts a whole process ahead (a 200-step chain is 200 task
objects from the start) and answers "is it completed?", "which tasks are
ready?" and "which tasks wait?" by walking the task tree, several times per
command; its cost grew with the length of the process, not with what the
command changed. The answers here come from one pass over the task dict (a
few tens of nanoseconds a task, against microseconds for the tree iterator),
in the tree's depth-first order where the order matters.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

_UNFINISHED = TaskState.NOT_FINISHED_MASK
_READY = TaskState.READY
_WAITING = TaskState.WAITING


def ready_tasks(workflow: Any) -> list[Any]:
    """``workflow.get_tasks(state=READY)``: its ready tasks in the tree's depth-first order.

    A workflow (or subprocess) that holds the parent task of a subprocess gets
    SpiffWorkflow's own walk, which interleaves the subprocess's tasks with its
    own; any other is answered from its task dict, sorted by position in the tree
    when several tasks are ready (parallel branches run in the order they did).
    """
    top = workflow.top_workflow
    if top.subprocesses and any(task_id in workflow.tasks for task_id in top.subprocesses):
        return list(workflow.get_tasks(state=_READY))
    ready = [task for task in workflow.tasks.values() if task._state == _READY]
    if len(ready) > 1:
        ready.sort(key=_tree_position)
    return ready


def _tree_position(task: Any) -> list[int]:
    """The child indexes from the root down to ``task``: sorting by them is depth-first
    (pre-order) order, the order SpiffWorkflow's iterator yields tasks in."""
    path = []
    tasks = task.workflow.tasks
    parent_id = task._parent
    while parent_id is not None:
        parent = tasks[parent_id]
        path.append(parent._children.index(task.id))
        task, parent_id = parent, parent._parent
    path.reverse()
    return path


class LiveWorkflow(BpmnWorkflow):
    """A top-level workflow whose completion check and waiting-task update look at its
    task dict instead of walking the tree."""

    def is_completed(self) -> bool:
        # Every task of the tree is in ``tasks`` (SpiffWorkflow removes dropped
        # ones from both), so this is the tree walk's answer: no unfinished task.
        # The dict holds tasks in creation order; the unfinished ones (the
        # predicted rest of the process) are mostly at its end, so look there first.
        done = bool(self.completed)  # type: ignore[has-type]  # untyped in SpiffWorkflow
        if not done and not any(task._state & _UNFINISHED
                                for task in reversed(self.tasks.values())):
            self.completed = done = True
        return done

    def update_waiting_tasks(self) -> None:
        # Called after every task that completes. SpiffWorkflow walks the whole
        # tree for waiting tasks (and updates them as it meets them, so what one
        # update changes is seen by the next); with none waiting there is nothing
        # to walk for, and most of the time none waits.
        if any(task._state == _WAITING for task in self.tasks.values()):
            super().update_waiting_tasks()
