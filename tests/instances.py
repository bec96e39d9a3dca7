"""Reading an instance's state in tests: its ready tasks, its variables, whether it is live."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from engine.composition import Engine
from engine.models import (
    HistoryEvent,
    ProcessDefinition,
    ProcessInstance,
    ProcessInstanceStatePart,
    Task,
)
from engine.queries.history import HistoryLog


def ready(engine: Engine, instance_id: str) -> list[Task]:
    """The instance's ready user tasks, with their candidates, by element id."""
    with engine.read() as s:
        return list(s.session.scalars(
            sa.select(Task).options(selectinload(Task.candidates))
            .where(Task.instance_id == instance_id, Task.state == "ready")
            .order_by(Task.element_id)))


def the_ready_task(engine: Engine, instance_id: str) -> Task:
    """The instance's one ready user task; fails if there are none or several."""
    tasks = ready(engine, instance_id)
    assert len(tasks) == 1, f"ready: {[t.element_id for t in tasks]}"
    return tasks[0]


def history(engine: Engine, instance_id: str) -> list[HistoryEvent]:
    """The instance's history as the engine reads it (the history log): the rows with
    what they keep elsewhere put back (their values, documents, who and where)."""
    with engine.read() as s:
        return HistoryLog(s.session, engine.clock).events(instance_id)


def element_properties(engine: Engine, task: Task) -> dict[str, Any]:
    """The extension properties the deployed definition gives ``task``'s element (its
    row keeps only those the engine reads off it)."""
    with engine.read() as s:
        spec = s.session.scalars(
            sa.select(ProcessDefinition.spec)
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == task.instance_id)).one()
    for process in [spec.get("spec") or {}, *(spec.get("subprocess_specs") or {}).values()]:
        found = (process.get("task_specs") or {}).get(task.element_id)
        if found is not None:
            return dict((found.get("extensions") or {}).get("properties") or {})
    raise AssertionError(f"{task.element_id} is in no process of its definition")


def ready_ids(engine: Engine, instance_id: str) -> list[str]:
    return [t.element_id for t in ready(engine, instance_id)]


def task_of(engine: Engine, instance_id: str, element: str) -> Task:
    """The one ready task of ``element``; fails naming what is ready instead."""
    matches = [t for t in ready(engine, instance_id) if t.element_id == element]
    assert len(matches) == 1, f"{element} is not ready: {ready_ids(engine, instance_id)}"
    return matches[0]


def variables(engine: Engine, instance_id: str) -> dict[str, Any]:
    with engine.read() as s:
        return s.runtime.variables(s.runtime.instance(instance_id))


def live(engine: Engine, instance_id: str) -> bool:
    """Whether the instance's row is in the live database (not archived away)."""
    with engine.read() as s:
        return s.session.get(ProcessInstance, instance_id) is not None


def stored_state(engine: Engine, instance_id: str) -> bytes:
    """The instance's state as stored: its parts (migration 0019), then its row's rest."""
    with engine.read() as s:
        parts = s.session.scalars(
            sa.select(ProcessInstanceStatePart.data)
            .where(ProcessInstanceStatePart.instance_id == instance_id)
            .order_by(ProcessInstanceStatePart.seq)).all()
        rest = s.session.scalars(sa.select(ProcessInstance.state)
                                 .where(ProcessInstance.id == instance_id)).one()
    return b"".join([*parts, rest])
