"""The task list's hand-written JSON matches the documented ``Task`` schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api import schemas
from api.v1.tasks import task_json
from engine.models import Task

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
