"""Reading an instance's state in tests: its ready tasks, its variables, whether it is live."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from engine.composition import Engine
from engine.models import ProcessInstance, ProcessInstanceStatePart, Task


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
