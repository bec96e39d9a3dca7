"""Task lists read the same whichever way the query goes, and count honestly."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.identity.access import Actor
from engine.models import ProcessInstance
from engine.queries.lists import Queries
from tests.builders import definitions, process

FLOW = process("mixed", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="c" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" camunda:dueDate="P1D" />
    <bpmn:userTask id="b" camunda:candidateGroups="auditor,tim-teknis" />
    <bpmn:userTask id="c" camunda:candidateUsers="rina" camunda:dueDate="P3D" />
    <bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f7" sourceRef="c" targetRef="join" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end" />
""")

ACTORS = [
    Actor.of("upp1", ["upp"]),
    Actor.of("aud", ["auditor", "tim-teknis"]),  # both roles of task b: counted once
    Actor.of("rina", ["ppc"]),
    Actor.of("cust", ["pelanggan"], "PT A"),
    Actor.of("boss", ["admin"]),
]


@pytest.fixture
def filled(engine: Engine) -> Engine:
    with engine.write() as s:
        s.deployments.deploy([("mixed.bpmn", definitions("mixed", FLOW).encode())])
        for n in range(4):
            s.runtime.start_instance("mixed", business_key=f"M-{n}",
                                     company="PT A" if n % 2 else "PT B")
    with engine.write() as s:
        first = s.queries.tasks(ACTORS[0]).items[0]
        s.runtime.complete_task(first.id, {}, actor="upp1")
    return engine


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.username)
def test_sparse_and_dense_reading_agree(filled: Engine, actor: Actor) -> None:
    with filled.read() as s:
        sparse = Queries(s.session, sparse=10_000).tasks(actor, per_page=100)
        dense = Queries(s.session, sparse=0).tasks(actor, per_page=100)
    assert [t.id for t in sparse.items] == [t.id for t in dense.items]
    assert sparse.total == dense.total == len(sparse.items)
    expected = {"upp1": 3, "aud": 4, "rina": 4, "cust": 0, "boss": 11}[actor.username]
    assert sparse.total == expected


def test_long_lists_are_counted_up_to_the_cap(filled: Engine) -> None:
    with filled.read() as s:
        capped = Queries(s.session, sparse=0, count_cap=3).tasks(ACTORS[1], per_page=2)
        admin = Queries(s.session, count_cap=5).tasks(ACTORS[4], per_page=2)
        exact = Queries(s.session, sparse=10_000, count_cap=3).tasks(ACTORS[1], per_page=2)
    assert (capped.total, capped.total_exact, len(capped.items)) == (3, False, 2)
    assert (admin.total, admin.total_exact) == (5, False)
    assert (exact.total, exact.total_exact) == (4, True)


def test_candidate_rows_are_counted_only_as_far_as_the_choice_needs(filled: Engine) -> None:
    # A busy role has tens of thousands of open candidate rows; counting them all
    # took most of a list's time. The count needs to reach past the sparse bound
    # and far enough to show the list is longer than the cap: here max(1, 1 * 3) + 1.
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(filled.db.engine, "before_cursor_execute", record)
    try:
        with filled.read() as s:
            page = Queries(s.session, sparse=1, count_cap=1).tasks(ACTORS[1], per_page=2)
    finally:
        sa.event.remove(filled.db.engine, "before_cursor_execute", record)
    counts = [(sql, params) for sql, params in seen
              if "count(" in sql.lower() and "task_candidate" in sql]
    assert len(counts) == 1
    sql, params = counts[0]
    if isinstance(params, dict):  # PostgreSQL's driver takes its values by name
        limit = re.search(r"LIMIT %\((\w+)\)s", sql)
        assert limit is not None and params[limit.group(1)] == 4
    else:  # SQLite's in order: ... LIMIT ? OFFSET ?
        assert "LIMIT" in sql.upper() and params[-2:] == (4, 0)
    assert (page.total, page.total_exact, len(page.items)) == (1, False, 2)


def test_one_instance_lists_the_same_by_id_by_business_key_and_with_filters(
        filled: Engine) -> None:
    admin, aud = ACTORS[4], ACTORS[1]
    with filled.read() as s:
        instance_id = s.session.scalars(sa.select(ProcessInstance.id).where(
            ProcessInstance.business_key == "M-1")).one()
        by_id = s.queries.tasks(admin, instance_id=instance_id)
        by_key = s.queries.tasks(admin, business_key="M-1")
        both = s.queries.tasks(admin, instance_id=instance_id, business_key="M-1")
        other_key = s.queries.tasks(admin, instance_id=instance_id, business_key="M-2")
        upp_only = s.queries.tasks(admin, instance_id=instance_id, role="upp")
        seen_by_aud = s.queries.tasks(aud, business_key="M-1")
    ids = [t.id for t in by_id.items]
    assert len(ids) == 3 and {t.instance_id for t in by_id.items} == {instance_id}
    assert [t.id for t in by_key.items] == [t.id for t in both.items] == ids
    assert other_key.total == 0
    assert [t.element_id for t in upp_only.items] == ["a"]
    assert [t.element_id for t in seen_by_aud.items] == ["b"]


def test_sort_by_due_puts_undated_tasks_last(filled: Engine) -> None:
    with filled.read() as s:
        page = s.queries.tasks(ACTORS[4], per_page=100)
    names = [t.element_id for t in page.items]
    assert names == ["a"] * 3 + ["c"] * 4 + ["b"] * 4
