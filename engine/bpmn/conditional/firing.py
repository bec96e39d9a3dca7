"""A conditional event fires: its task goes on, an interrupting boundary event ends its
activity, a non-interrupting one that fires too often in one command stops.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .evaluation import fail

# How often one non-interrupting event may fire in one command: beyond, the path after
# it changes what its own condition reads, and it would fire for ever.
MOST_FIRINGS = 50


def too_often(task: Any, element: str | None) -> bool:
    """Count a firing of a non-interrupting event in this command; True past the limit.

    The count lives on the command's script engine (a new one for each command).
    """
    engine = task.workflow.script_engine
    counts: dict[str | None, int] = engine.__dict__.setdefault("_sertiflow_firings", {})
    counts[element] = counts.get(element, 0) + 1
    return counts[element] > MOST_FIRINGS


def runaway_message(element: str | None) -> str:
    return (f"the non-interrupting conditional event fired {MOST_FIRINGS} times in one step: "
            "what happens after it changes what its own condition reads; restrict it to "
            f"one variable with camunda:variableName (element '{element}')")


def fire(task: Any) -> None:
    """Let a waiting conditional event go (a copy stays when it is non-interrupting)."""
    spec = task.task_spec
    if isinstance(spec, BoundaryEvent) and not spec.cancel_activity and too_often(
            task, spec.bpmn_id):
        fail(task, runaway_message(spec.bpmn_id))
        return
    task.internal_data["event_fired"] = True
    # Not task._update(): it would first copy the parent's (older) variables over
    # the ones this task was given since it began to wait. A non-interrupting
    # boundary event leaves a waiting copy of itself as it becomes ready
    # (engine.bpmn.specs.RearmedBoundaryEvent).
    task._ready()
    if isinstance(task.task_spec, BoundaryEvent) and task.task_spec.cancel_activity:
        cancel_attached(task)


def is_rearmed(task: Any) -> bool:
    """Whether a boundary event task is the copy a firing of its own left waiting."""
    split = task.parent
    return (isinstance(task.task_spec, BoundaryEvent) and split is not None
            and isinstance(split.task_spec, BoundaryEventSplit)
            and any(t is not task and t.task_spec is task.task_spec for t in split.children))


def attached_activity(boundary: Any) -> Any:
    """The activity a boundary event task is attached to, when it has not finished."""
    split = boundary.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    return next((t for t in split.children if not isinstance(t.task_spec, BoundaryEvent)
                 and not t.has_state(TaskState.FINISHED_MASK)), None)


def cancel_attached(boundary: Any) -> None:
    """An interrupting boundary event ends its activity at once."""
    activity = attached_activity(boundary)
    if activity is not None:
        activity.cancel()


def pending_boundaries(top: Any) -> list[Any]:
    """Boundary events that fired on arrival, whose activity is to be ended (this command
    only: kept on the live workflow, not stored)."""
    found: list[Any] = top.__dict__.setdefault("_sertiflow_conditional_pending", [])
    return found


def catch(task: Any, definition: Any) -> None:
    """An event-based gateway's conditional event fires: its branch is taken."""
    task.task_spec.catch(task, BpmnEvent(definition))
    task._ready()
