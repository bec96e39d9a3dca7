"""Running the engine's own steps: everything that is ready and needs no person, up to
the next wait or the first failure, with a record of each element completed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

from .. import conditional, hooks
from .. import data as dataflow
from .incidents import step_failure, uncaught_error
from .records import StepFailure, StepRecord
from .tasks import element_id

# Camunda's name for the activity that holds the instances of a multi-instance one.
MULTI_INSTANCE_BODY = "#multiInstanceBody"


def advance(workflow: BpmnWorkflow, failures: list[Exception]
            ) -> tuple[list[StepRecord], StepFailure | None]:
    """Run every engine step that is ready; stop at the first failure.

    ``failures`` are the current command's failures that happened outside this
    run; they are taken, and with any of them nothing further runs.
    """
    records: list[StepRecord] = []
    before: dict[UUID, dict[str, Any]] = {}

    def will_complete(task: Any) -> None:
        before[task.id] = dict(task.data)

    def did_complete(task: Any) -> None:
        element = element_id(task)
        old = before.pop(task.id, {})
        if element is None or task.state != TaskState.COMPLETED:
            # Not an element, or one that ran and goes on (a standard loop's next
            # iteration): nothing finished yet.
            if element is None and task.state == TaskState.COMPLETED:
                conditional.step_done(task, old)  # a (sub-)process begins
            return
        changed = hooks.changed_values(old, task.data)
        hooks.publish(task.workflow, changed, source=task)
        kind = type(task.task_spec).__name__
        if isinstance(task.task_spec, MultiInstanceTask):
            element = f"{element}{MULTI_INSTANCE_BODY}"  # its instances are ``element``
        records.append(StepRecord(str(task.id), element, kind, changed,
                                  dataflow.take_written(task)))
        if isinstance(task.task_spec, ThrowingEvent):
            # An interrupting event subprocess that caught what this threw ends
            # its scope now, before anything after the thrower runs.
            hooks.interrupt_scopes(workflow)
        conditional.step_done(task, old)

    if failures:  # the command's own step broke off: run nothing further
        return records, step_failure(workflow, _take_failures(workflow, failures)[0])
    try:
        # A timer or an event from outside may have started an interrupting
        # event subprocess: its scope ends before anything else runs.
        hooks.interrupt_scopes(workflow)
        conditional.run_engine_steps(workflow, will_complete, did_complete)
        while (hooks.interrupt_scopes(workflow)
               or hooks.end_idle_event_subprocesses(workflow)):
            conditional.run_engine_steps(workflow, will_complete, did_complete)
        if workflow.is_completed():
            hooks.run_process_end(workflow)
    except Exception as exc:
        return records, step_failure(workflow, exc)
    failed = _take_failures(workflow, failures)
    if failed:
        return records, step_failure(workflow, failed[0])
    return records, uncaught_error(workflow)


def _take_failures(workflow: BpmnWorkflow, failures: list[Exception]) -> list[Exception]:
    """Failures since the last look: of the command before this advance, and of
    listeners and mappings at an element's start."""
    taken = list(failures)
    failures.clear()
    hook_failures = getattr(workflow.script_engine, "hook_failures", None)
    if hook_failures:
        taken.extend(hook_failures)
        hook_failures.clear()
    return taken
