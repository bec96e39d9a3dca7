"""``ioSpecification`` at run time, on tasks and on processes.

On a task (run from :mod:`engine.bpmn.hooks` at its start and end, read from
the ``ioSpecification`` entry the parser puts in the spec's extensions): each
data input must be a variable when it starts, and it sees only its inputs;
each data output must be a variable when it ends, and the variables from
before it plus its outputs go on. On a process: the start variables of an
instance (:func:`required_inputs`), what a called process is given, and what a
process holds at its end are checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState

# A task spec's extensions: {"inputs": [...], "outputs": [...], "optional": [...]}.
IO = "ioSpecification"
# Internal data of a task.
_OUTER = "sertiflow_io_outer"  # the variables before a task with an ioSpecification started


# -- ioSpecification on tasks (run from engine.bpmn.hooks) ---------------------------

class MissingData(WorkflowTaskException):
    """A required data input or output is not a variable; ``element_id`` names where."""

    def __init__(self, message: str, task: Any, element_id: str | None = None) -> None:
        super().__init__(message, task=task)
        self.element_id = element_id


def _names(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def io_start(task: Any) -> None:
    """Check a task's data inputs and leave it only those (before its start listeners)."""
    io = (getattr(task.task_spec, "extensions", None) or {}).get(IO)
    if not io:
        return
    missing = [n for n in io["inputs"] if n not in task.data and n not in io["optional"]]
    if missing:
        raise MissingData(
            f"the task needs the variable{'s' if len(missing) > 1 else ''} {_names(missing)} "
            "before it starts (its ioSpecification names them as data inputs): set them "
            "and retry", task)
    task.internal_data[_OUTER] = deepcopy(task.data)
    task.data = {n: task.data[n] for n in io["inputs"] if n in task.data}


def io_end(task: Any) -> None:
    """Check a task's data outputs; the variables from before it plus its outputs go on."""
    io = (getattr(task.task_spec, "extensions", None) or {}).get(IO)
    if not io:
        return
    missing = [n for n in io["outputs"] if n not in task.data and n not in io["optional"]]
    if missing:
        raise MissingData(
            f"the task must set the variable{'s' if len(missing) > 1 else ''} "
            f"{_names(missing)} (its ioSpecification names them as data outputs)", task)
    outer = task.internal_data.pop(_OUTER, None)
    if outer is None:
        return
    outer.update({n: task.data[n] for n in io["outputs"] if n in task.data})
    task.data = outer


# -- ioSpecification on processes ----------------------------------------------------

def required_inputs(stored_spec: Mapping[str, Any]) -> list[str]:
    """The start variables a stored definition's process requires (its data inputs)."""
    io = (stored_spec.get("spec") or {}).get("io_specification") or {}
    return [str(d["bpmn_id"]) for d in io.get("data_inputs") or []]


class ProcessInputs:
    """A ``post_assign`` entry of a called process's start: its data inputs arrived."""

    def assign(self, task: Any, _target: Any) -> None:
        io = task.workflow.spec.io_specification
        missing = [d.bpmn_id for d in io.data_inputs if d.bpmn_id not in task.data]
        if not missing:
            return
        error = MissingData(
            f"the called process '{task.workflow.spec.name}' needs the variable"
            f"{'s' if len(missing) > 1 else ''} {_names(missing)} (its ioSpecification "
            "names them as data inputs): pass them in (camunda:in) and retry",
            task, _calling_element(task.workflow))
        failures = getattr(task.workflow.script_engine, "hook_failures", None)
        if failures is None:
            raise error
        # Told to the engine here; the call activity that starts the process stops
        # quietly (engine.bpmn.hooks.MappedCallActivity), so the step before it ends well.
        failures.append(error)
        raise SubprocessNotStarted(str(error))


class SubprocessNotStarted(Exception):
    """A called process could not start; the engine was told why already."""


class ProcessOutputs:
    """A ``post_assign`` entry of a process's end: its data outputs are variables."""

    def assign(self, task: Any, _target: Any) -> None:
        io = task.workflow.spec.io_specification
        missing = [d.bpmn_id for d in io.data_outputs if d.bpmn_id not in task.data]
        if missing:
            raise MissingData(
                f"the process '{task.workflow.spec.name}' ends without the variable"
                f"{'s' if len(missing) > 1 else ''} {_names(missing)} (its ioSpecification "
                "names them as data outputs): set them and retry",
                task, _last_end_event(task) or _calling_element(task.workflow))


def _calling_element(workflow: Any) -> str | None:
    task_id = getattr(workflow, "parent_task_id", None)
    if task_id is None:
        return None
    caller = workflow.top_workflow.get_task_from_id(task_id)
    return getattr(caller.task_spec, "bpmn_id", None) if caller is not None else None


def _last_end_event(task: Any) -> str | None:
    """The end event whose completion brought the process to its end."""
    ends = [t for t in task.workflow.tasks.values()
            if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED]
    latest = max(ends, key=lambda t: t.last_state_change, default=None)
    return getattr(latest.task_spec, "bpmn_id", None) if latest is not None else None

