"""The workflow class sertiflow runs instances in: SpiffWorkflow's, with cheaper questions.

SpiffWorkflow predicts a whole process ahead (a 200-step chain is 200 task
objects from the start) and answers "is it completed?" by walking the task
tree, several times per command; its cost grew with the length of the
process, not with what the command changed.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

_UNFINISHED = TaskState.NOT_FINISHED_MASK


class LiveWorkflow(BpmnWorkflow):
    """A top-level workflow whose completion check is one pass over its task dict."""

    def is_completed(self) -> bool:
        # Every task of the tree is in ``tasks`` (SpiffWorkflow removes dropped
        # ones from both), so this is the tree walk's answer: no unfinished task.
        done = bool(self.completed)  # type: ignore[has-type]  # untyped in SpiffWorkflow
        if not done and not any(task._state & _UNFINISHED for task in self.tasks.values()):
            self.completed = done = True
        return done
