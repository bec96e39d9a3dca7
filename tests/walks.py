"""SpiffWorkflow's own tree walk, checked against the engine's cheaper answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import live_workflow
from engine.bpmn.conditional import engine_loop


@dataclass
class Checked:
    """What :func:`check_ready_tasks` saw."""

    answers: int = 0
    in_subprocesses: int = 0  # answers holding ready tasks of a subprocess
    # Each answer that differed: the tasks given, then the walk's, by element id.
    differed: list[tuple[list[str], list[str]]] = field(default_factory=list)


def check_ready_tasks(monkeypatch: pytest.MonkeyPatch) -> Checked:
    """From now on, compare every ``ready_tasks`` answer of the engine loop with what
    SpiffWorkflow's walk gives: the same tasks, in the same order. A difference is
    recorded, not raised: the engine would turn an exception into an incident."""
    checked = Checked()
    real = live_workflow.ready_tasks

    def compared(workflow: Any) -> list[Any]:
        fast = real(workflow)
        walked = list(workflow.get_tasks(state=TaskState.READY))
        checked.answers += 1
        if [t.id for t in fast] != [t.id for t in walked]:
            checked.differed.append(([t.task_spec.name for t in fast],
                                     [t.task_spec.name for t in walked]))
        if any(t.workflow is not workflow for t in fast):
            checked.in_subprocesses += 1
        return fast

    monkeypatch.setattr(engine_loop, "ready_tasks", compared)
    return checked
