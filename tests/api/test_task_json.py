"""The hand-written answers (tasks, a started instance) match their documented schemas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import schemas
from api.v1.definitions import instance_json
from api.v1.tasks import task_json
from engine.identity.access import Actor
from engine.models import Task
from engine.queries.lists import Queries
from engine.runtime.store import InstanceRow

MOMENT = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("dated", [True, False])
def test_task_json_equals_the_schema_dump(dated: bool) -> None:
    task = Task(
        id="t-1", instance_id="i-1", definition_key="sertifikasi", element_id="audit",
        title="Stage 2 audit", lane="auditor", company="PT A", state="completed",
        assignee="rina", priority=70, form_key="audit-form", properties={"x": "y"},
        created_at=MOMENT, due_at=MOMENT if dated else None, due_order=MOMENT,
        follow_up_at=MOMENT if dated else None, completed_at=MOMENT if dated else None,
        completed_by="rina" if dated else None, candidate_groups=["auditor"],
        candidate_users=["rina"])
    assert task_json(task) == schemas.Task().dump(task)


def test_a_listed_row_gives_the_same_json_as_the_model() -> None:
    """One instance's task list reads plain rows of the task table (not ORM models):
    the answer is the same."""
    task = Task(
        id="t-2", instance_id="i-1", definition_key="sertifikasi", element_id="audit",
        title="Stage 2 audit", lane="auditor", company="PT A", state="completed",
        assignee=None, priority=50, form_key=None, properties={}, created_at=MOMENT,
        due_at=MOMENT, due_order=MOMENT, follow_up_at=None, completed_at=MOMENT,
        completed_by="rina", candidate_groups=["auditor"], candidate_users=[])
    expected = schemas.Task().dump(task)
    db = sa.create_engine("sqlite://")
    Task.__table__.create(db)
    with Session(db) as session:
        session.add(task)
        session.commit()
        rina = Actor.of("rina", ["auditor"])
        page = Queries(session).tasks(rina, instance_id="i-1", state="completed")
    [row] = page.items
    assert not isinstance(row, Task)
    assert task_json(row) == expected


@pytest.mark.parametrize("ended", [True, False])
def test_instance_json_equals_the_schema_dump(ended: bool) -> None:
    row = InstanceRow(
        id="i-1", definition_id="sertifikasi:3:abc", definition_key="sertifikasi",
        business_key=None if ended else "SPPT-1", status="completed" if ended else "running",
        revision=2, waits_digest=None, state=b"", started_by="rina",
        company=None if ended else "PT A", ended_at=MOMENT if ended else None,
        started_at=MOMENT)
    assert instance_json(row) == schemas.Instance().dump(row)
