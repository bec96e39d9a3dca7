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
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

_UNFINISHED = TaskState.NOT_FINISHED_MASK
_READY = TaskState.READY
_WAITING = TaskState.WAITING


def ready_tasks(workflow: Any) -> list[Any]:
    """``workflow.get_tasks(state=READY)``: its ready tasks in the tree's depth-first order.

    SpiffWorkflow's walk goes down into the subprocess of each task that has one (a
    call activity's process, an embedded subprocess) before that task's children.
    The same tasks in the same order come from the task dicts of the workflow and
    of the subprocesses it reaches, sorted by position when several are ready
    (parallel branches run in the order they did): the walk visited every task of
    the tree, the finished ones of a called process included, at every step.
    """
    subprocesses = workflow.top_workflow.subprocesses
    reached = [workflow]
    parents: dict[Any, Any] = {}  # a reached subprocess: the task it runs under
    if subprocesses:
        # Nested subprocesses: one whose parent task is in a subprocess reached is too.
        pending = dict(subprocesses)
        found = True
        while found and pending:
            found = False
            for sub_id, sub in list(pending.items()):
                parent = next((p for w in reached if (p := w.tasks.get(sub_id)) is not None),
                              None)
                if parent is not None:
                    reached.append(sub)
                    parents[sub] = parent
                    del pending[sub_id]
                    found = True
    ready = [task for w in reached for task in w.tasks.values() if task._state == _READY]
    if len(ready) > 1:
        ready.sort(key=lambda task: _tree_position(task, parents))
    return ready


def _tree_position(task: Any, parents: dict[Any, Any]) -> list[int]:
    """Where the walk meets ``task``: sorting by it is depth-first (pre-order) order, the
    order SpiffWorkflow's iterator yields tasks in. Each step down is the child's index
    plus one; a step into the subprocess of a task is 0 (it comes before the children)."""
    path = []
    while True:
        tasks = task.workflow.tasks
        parent_id = task._parent
        while parent_id is not None:
            parent = tasks[parent_id]
            path.append(parent._children.index(task.id) + 1)
            task, parent_id = parent, parent._parent
        above = parents.get(task.workflow)
        if above is None:
            break
        path.append(0)
        task = above
    path.reverse()
    return path


def _update_waiting_tasks(workflow: Workflow) -> None:
    # Called after every task that completes. SpiffWorkflow walks the whole tree for
    # waiting tasks (and updates them as it meets them, so what one update changes is
    # seen by the next); with none waiting there is nothing to walk for, and most of
    # the time none waits.
    if any(task._state == _WAITING for task in workflow.tasks.values()):
        Workflow.update_waiting_tasks(workflow)


class LiveSubWorkflow(BpmnSubWorkflow):
    """A subprocess (a call activity's process, an embedded subprocess, a compensation
    handler) whose waiting-task update looks at its task dict first, as
    :class:`LiveWorkflow`'s does. Stored and read as SpiffWorkflow's
    ``BpmnSubWorkflow`` (engine.bpmn.registries)."""

    def update_waiting_tasks(self) -> None:
        _update_waiting_tasks(self)


class LiveWorkflow(BpmnWorkflow):
    """A top-level workflow whose completion check and waiting-task update look at its
    task dict instead of walking the tree; its subprocesses are :class:`LiveSubWorkflow`."""

    def create_subprocess(self, my_task: Any, spec_name: str) -> LiveSubWorkflow:
        subprocess = LiveSubWorkflow(self.subprocess_specs[spec_name],
                                     parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess

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
        _update_waiting_tasks(self)
