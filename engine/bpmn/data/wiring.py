"""Data associations and ioSpecification put on a process spec's task specs."""

from __future__ import annotations

from typing import Any

from .associations import after_task, associated, before_task
from .io_specification import ProcessInputs, ProcessOutputs


def install(spec: Any, *, top: bool) -> None:
    """Give the specs of a process what data associations and ioSpecification need.

    ``top``: the process an instance starts (whose inputs the runtime checks at the
    start); otherwise a called or embedded process, whose start checks them.
    """
    for task_spec in spec.task_specs.values():
        if associated(task_spec) and not task_spec.completed_event.is_connected(after_task):
            task_spec.update_event.connect(before_task)
            task_spec.completed_event.connect(after_task)
    io = spec.io_specification
    if io is None:
        return
    if io.data_inputs and not top and "Start" in spec.task_specs:
        spec.task_specs["Start"].post_assign = [*spec.task_specs["Start"].post_assign,
                                                ProcessInputs()]
    if io.data_outputs and "End" in spec.task_specs:
        spec.task_specs["End"].post_assign = [*spec.task_specs["End"].post_assign,
                                              ProcessOutputs()]
