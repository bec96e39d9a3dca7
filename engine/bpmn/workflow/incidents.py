"""Failures while a workflow runs, as the runtime records them (incidents), and the
retry that puts a failed task back in the flow.

A failure is reported as a :class:`StepFailure` that names the element and says
what kind of thing failed (a script, a handler, a condition...); an error thrown
that nothing catches is a failure too, as in Camunda.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .. import conditional, hooks
from .records import StepFailure
from .tasks import element_id, thrower

# An element that failed when the flow reached it, before it became ready.
FAILED_ON_ARRIVAL = "sertiflow_failed_on_arrival"


class TaskHookFailed(Exception):
    """A user task's completion failed in its listeners or output mappings."""


def failure_message(exc: BaseException) -> str:
    """The exception's message, with SpiffWorkflow's notes ("Did you mean ...?") once."""
    if not isinstance(exc, SpiffWorkflowException):
        return str(exc)
    parts = [p for p in (Exception.__str__(exc).strip(), *(str(n).strip() for n in exc.notes))
             if p]
    return " ".join(p if p.endswith((".", "?", "!", ":")) or p is parts[-1] else p + "."
                    for p in parts)


def step_failure(workflow: BpmnWorkflow, exc: BaseException) -> StepFailure:
    """The failure ``exc`` as an incident of the task that raised it (or the failed one)."""
    task = getattr(exc, "task", None)
    if task is None:
        errored = workflow.get_tasks(state=TaskState.ERROR)
        task = errored[0] if errored else None
    elif not task.has_state(TaskState.FINISHED_MASK | TaskState.ERROR):
        # Failed before it ran: mark it, so that the incident's retry finds it.
        if not task.has_state(TaskState.READY | TaskState.STARTED):
            task.internal_data[FAILED_ON_ARRIVAL] = True
        task._set_state(TaskState.ERROR)
    element = None
    if task is not None:  # a step of sertiflow's own reports for the element it serves
        element = element_id(task) or getattr(task.task_spec, "incident_element", None)
    spec_type = type(task.task_spec).__name__ if task is not None else ""
    if isinstance(exc, conditional.ConditionError):
        spec_type = "ConditionalEvent"
    kind = {
        "ConditionalEvent": "condition",
        "ScriptTask": "script",
        "TopicServiceTask": "handler",
        "TopicSendTask": "handler",
        "ExclusiveGateway": "condition",
        "InclusiveGateway": "condition",
        "CompletionCheck": "condition",
        "ComplexGateway": "condition",
        "WhileLoopTask": "condition",
    }.get(spec_type, "engine")
    message = failure_message(exc)
    return StepFailure(
        task_id=str(task.id) if task is not None else None,
        # A missing process input or output names the call activity or end event.
        element_id=getattr(exc, "element_id", None) or element,
        kind=kind,
        message=message,
        traceback="".join(traceback.format_exception(exc)),
        fields=input_errors(exc),
    )


def input_errors(exc: BaseException) -> dict[str, str]:
    """The per-variable errors of the input error behind ``exc`` (none: not an input error).

    A handler refuses its input with an exception carrying ``errors`` (variable
    name -> message, ``engine.errors.InvalidInput``); SpiffWorkflow may wrap it.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        errors = getattr(current, "errors", None)
        if isinstance(errors, dict) and errors:
            return {str(k): str(v) for k, v in errors.items()}
        current = current.__cause__ or current.__context__
    return {}


def uncaught_error(workflow: BpmnWorkflow) -> StepFailure | None:
    """An error thrown that no boundary event or event subprocess catches.

    SpiffWorkflow hands such an error back to its host as a pending event
    (with, sometimes, errors an event subprocess did catch) and ends the
    instance as if nothing happened; Camunda treats it as a failure. The
    error events are taken out of the pending ones here, so each is reported
    once.
    """
    errors = [e for e in workflow.bpmn_events
              if isinstance(e.event_definition, ErrorEventDefinition)]
    if not errors:
        return None
    workflow.bpmn_events = [e for e in workflow.bpmn_events if e not in errors]
    for event in errors:
        if _caught_by_event_subprocess(workflow, event.event_definition):
            continue
        code = event.event_definition.code
        thrown_by = thrower(workflow, event.event_definition, "code")
        element = element_id(thrown_by) if thrown_by is not None else None
        return StepFailure(
            task_id=str(thrown_by.id) if thrown_by is not None else None, element_id=element,
            kind="error",
            message=(f"the error {code or event.event_definition.name or ''!r} is caught "
                     "by nothing: add an error boundary event or an error event "
                     "subprocess that catches it; the instance stopped here"),
            traceback="")
    return None


def _caught_by_event_subprocess(workflow: BpmnWorkflow, thrown: Any) -> bool:
    for name in workflow.spec.start.trigger_specs:
        spec = workflow.subprocess_specs.get(name)
        for start in getattr(spec, "bpmn_start_events", []):
            if isinstance(start.event_definition, ErrorEventDefinition) and (
                    start.event_definition == thrown):
                return True
    return False


def retry(workflow: BpmnWorkflow, task_id: str, variables: Mapping[str, Any],
          failures: list[Exception]) -> None:
    """Put a failed task back to READY, with corrected data, for the next advance.

    A task that fails again as the flow reaches it adds its failure to ``failures``.
    """
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.ERROR:
        raise LookupError(f"no failed task {task_id}")
    task.data.update(variables)
    if conditional.failed(task):
        conditional.retry(task)
    elif hooks.failed_at_start(task):
        hooks.restart(task)
    elif task.internal_data.pop(FAILED_ON_ARRIVAL, False):
        # It failed as the flow reached it, before it could run (a loop's
        # collection, a timer's expression): let the flow reach it again.
        task._set_state(TaskState.FUTURE)
        try:
            task.task_spec._update(task)
        except Exception as exc:
            task._set_state(TaskState.ERROR)
            failures.append(exc)
    else:
        task._set_state(TaskState.READY)
