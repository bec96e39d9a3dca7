"""Standard loops (``standardLoopCharacteristics``) as BPMN 2.0.2 defines them.

An activity with a standard loop runs its body again and again while its
``loopCondition`` holds (a *while* condition, not an *until*):

- ``testBefore="false"`` (the default) runs the body, then evaluates the
  condition: the body runs at least once, as in a do-while loop;
- ``testBefore="true"`` evaluates the condition first: the body may run zero
  times;
- ``loopMaximum`` caps the number of iterations (``0`` runs none); with no
  condition the body runs exactly that many times;
- ``loopCounter`` counts the iterations: the body sees its own iteration's
  number (0, 1, 2, ...: the iterations finished before it), the condition sees
  the number finished so far. It is local to the loop: after the loop the
  variable is what it was before (absent, mostly).

The condition is Python or JUEL (``${n lt 3}``), evaluated in the sandbox on
the variables the last iteration left. Camunda 7 itself does not run standard
loops; SpiffWorkflow does (:class:`StandardLoopTask`), and :class:`WhileLoopTask`
keeps its structure (the loop task and one child task per iteration) while
fixing what it does differently. It corresponds to these upstream changes to
``SpiffWorkflow.bpmn.specs.mixins.multiinstance_task.StandardLoopTask``:

- the data an iteration leaves *is* the data of the loop (and of the next
  iteration): SpiffWorkflow deep-merges it into the loop task, which never
  drops a key nor shortens a list, so a body that works through a list
  (``queue = queue[1:]``) never empties it;
- the loop task decides whether to run another iteration when it runs (it is
  READY between iterations), not inside the completion of the iteration: a
  condition that fails to evaluate is then an incident on the loop element,
  and a retry decides again (SpiffWorkflow raised from the child's completion
  and left the loop task STARTED, so nothing could retry it);
- ``loopMaximum`` caps the iterations before each one (SpiffWorkflow ran the
  body once even when the maximum was 0);
- ``loopCounter`` is defined.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    StandardLoopTask as StandardLoopMixin,
)
from SpiffWorkflow.util.task import TaskState

LOOP_COUNTER = "loopCounter"
# Internal data of the loop task: the loopCounter variable as it was before the loop.
SAVED_COUNTER = "sertiflow_loop_counter_before"
MERGED = "merged"  # SpiffWorkflow's list of the iterations done (child task ids)


class WhileLoopTask(StandardLoopTask):
    """A standard loop: the body runs while ``condition`` holds, at most ``maximum`` times."""

    def _update_hook(self, my_task: Any) -> bool:
        # The data inputs of the activity (BpmnTaskSpec), not SpiffWorkflow's loop start.
        super(StandardLoopMixin, self)._update_hook(my_task)
        my_task.internal_data[MERGED] = []
        my_task.internal_data[SAVED_COUNTER] = (
            {"value": deepcopy(my_task.data[LOOP_COUNTER])} if LOOP_COUNTER in my_task.data
            else {})
        return True  # ready: _run_hook decides whether the body runs

    def _run_hook(self, my_task: Any) -> bool | None:
        """Start the next iteration (the task waits for it), or end the loop."""
        done = len(my_task.internal_data.setdefault(MERGED, []))
        my_task.data[LOOP_COUNTER] = done
        if self._finished(my_task, done):
            saved = my_task.internal_data.pop(SAVED_COUNTER, {})
            if "value" in saved:
                my_task.data[LOOP_COUNTER] = saved["value"]
            else:
                my_task.data.pop(LOOP_COUNTER, None)
            return True
        self.create_child(my_task)
        return None

    def _finished(self, my_task: Any, done: int) -> bool:
        if self.maximum is not None and done >= self.maximum:
            return True
        if self.condition is None or (done == 0 and not self.test_before):
            return False
        return not my_task.workflow.script_engine.evaluate(my_task, self.condition)

    def merge_child(self, workflow: Any, child: Any) -> None:
        """An iteration finished: its data is the loop's now; decide on the next one."""
        my_task = child.parent
        if my_task.state != TaskState.STARTED:
            return  # the loop was cancelled meanwhile
        my_task.data = deepcopy(child.data)
        my_task.internal_data.setdefault(MERGED, []).append(str(child.id))
        my_task._set_state(TaskState.READY)

    def loop_complete(self, my_task: Any) -> bool:
        """SpiffWorkflow's question, answered as :meth:`_run_hook` does."""
        return self._finished(my_task, len(my_task.internal_data.get(MERGED, [])))
