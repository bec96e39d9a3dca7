"""Sub-processes and call activities: their start hooks and Camunda's in/out mappings.

A sub-process or call activity never becomes ready before its end, so its
start hooks (:mod:`.start_end`) run when it starts its child workflow
(:class:`MappedCallActivity`), which also applies ``camunda:in``/``camunda:out``
(:func:`mapped_variables`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import CallActivity

from ..data.io_specification import SubprocessNotStarted
from .sharing import SEEN, changed_values, current_variables, publish
from .start_end import LOCALS, context_info, has_hooks, run_start


class MappedCallActivity(CallActivity):
    """A sub-process or call activity that runs its start hooks and Camunda's in/out mappings.

    As in Camunda, an embedded sub-process shares every variable, and a call
    activity passes exactly what its ``camunda:in``/``camunda:out`` name:
    ``source``/``sourceExpression`` to ``target``, or ``variables="all"``;
    without them, nothing. ``local="true"`` reads only the element's own
    (input-mapped) variables. ``businessKey`` has nothing to do: the called
    process runs inside the same instance and shares its key. (Definitions
    deployed before call activities were told apart keep passing everything.)
    """

    def start_workflow(self, my_task: Any) -> None:
        if has_hooks(getattr(self, "extensions", None)) and not run_start(my_task):
            raise _StartFailed()
        super().start_workflow(my_task)

    def _update_hook(self, my_task: Any) -> Any:
        try:
            return super()._update_hook(my_task)
        except (_StartFailed, SubprocessNotStarted):
            return False  # the task failed; the engine was told why

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        extensions = getattr(self, "extensions", None) or {}
        mappings = extensions.get("callIn") or []
        if extensions.get("eventSubprocess"):
            # It starts beside the process, not after a task: it sees the variables
            # as the process holds them now, and gives back what it changes.
            now = deepcopy(current_variables(my_task.workflow))
            my_task.internal_data[SEEN] = now
            start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True,
                                              spec_name="Start")
            start.set_data(**deepcopy(now))
            return
        if not extensions.get("calls"):
            super().copy_data(my_task, subworkflow)
            # What it started with, to give back only what it changed (update_data).
            my_task.internal_data[SEEN] = deepcopy(my_task.data)
            return
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True,
                                          spec_name="Start")
        start.set_data(**mapped_variables(my_task, mappings, my_task.data))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        extensions = getattr(self, "extensions", None) or {}
        mappings = extensions.get("callOut") or []
        if extensions.get("eventSubprocess"):
            final = deepcopy(subworkflow.last_task.data)
            seen = my_task.internal_data.pop(SEEN, {})
            changes = changed_values(seen, final)
            my_task.data = final
            publish(my_task.workflow, changes)
            return
        if not extensions.get("calls"):
            seen = my_task.internal_data.pop(SEEN, None)
            if seen is None:  # begun before sertiflow kept what it started with
                super().update_data(my_task, subworkflow)
                return
            # An embedded sub-process shares the variables: what it changed joins
            # what other branches changed meanwhile (they gave it to this task).
            final = deepcopy(subworkflow.last_task.data)
            changes = changed_values(seen, final)
            my_task.data.update(changes)
            publish(my_task.workflow, changes)
            return
        returned = deepcopy(subworkflow.last_task.data)
        my_task.data.update(mapped_variables(my_task, mappings, returned))


class _StartFailed(Exception):
    """The start hooks of a sub-process failed; the task is failed already."""


def mapped_variables(task: Any, mappings: Sequence[Mapping[str, Any]], source: Mapping[str, Any]
                     ) -> dict[str, Any]:
    """The variables ``camunda:in``/``camunda:out`` entries carry from ``source``."""
    local_names = set((task.internal_data.get(LOCALS) or {}).get("names", []))
    result: dict[str, Any] = {}
    for mapping in mappings:
        local = str(mapping.get("local", "")).lower() == "true"
        if mapping.get("variables") == "all":
            result.update({k: deepcopy(v) for k, v in source.items()
                           if not local or k in local_names})
        elif mapping.get("source"):
            name = str(mapping["source"])
            if name in source:
                result[str(mapping.get("target") or name)] = deepcopy(source[name])
        elif mapping.get("sourceExpression"):
            value = task.workflow.script_engine.evaluate_template(
                task, str(mapping["sourceExpression"]), what="camunda:in/out sourceExpression",
                context=context_info(task), data=source)
            result[str(mapping.get("target"))] = value
    return result
