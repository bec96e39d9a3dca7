"""Task lists read the same whichever way the query goes, and count honestly."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import NotFound
from engine.identity.access import Actor
from engine.models import ProcessInstance, Task, TaskCandidate
from engine.queries.lists import Queries, may_act_on
from tests.builders import definitions, process

FLOW = process("mixed", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="c" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" camunda:dueDate="P1D" />
    <bpmn:userTask id="b" camunda:candidateGroups="auditor,tim-teknis,pelanggan" />
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
        first = s.queries.tasks(ACTORS[0], business_key="M-0").items[0]
        s.runtime.complete_task(first.id, {}, actor="upp1")
    return engine


# Every way a list may be read, forced: by the ids of the actor's tasks; along the
# due-date index as far as a bound (which finds the page here), or as far as a
# bound too near to fill it (then by ids); to the end of the index (the ids are
# past the cap).
WAYS = {
    "ids": {"sparse": 10_000},
    "near": {"sparse": 0, "walk": 10_000},
    "bound too near": {"sparse": 0, "walk": 1},
    "to the end": {"sparse": 0, "walk": 1, "count_cap": 1},
}
# The customer sees task b of their company's two instances only.
SEEN = {"upp1": 3, "aud": 4, "rina": 4, "cust": 2, "boss": 11}


def order_key(task: Any) -> tuple[Any, ...]:
    return (task.due_order, task.created_at)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.username)
def test_every_way_of_reading_agrees(filled: Engine, actor: Actor, way: str) -> None:
    with filled.read() as s:
        queries = Queries(s.session, **WAYS[way])
        whole = queries.tasks(actor, per_page=100)
        pages = [queries.tasks(actor, page=n, per_page=2) for n in range(1, 8)]
        plain = Queries(s.session).tasks(actor, per_page=100)
        upp_only = queries.tasks(actor, role="upp", per_page=100)
    # Tasks due at the same moment may come in any order, but the same set.
    assert {t.id for t in whole.items} == {t.id for t in plain.items}
    assert [order_key(t) for t in whole.items] == [order_key(t) for t in plain.items]
    assert len(whole.items) == SEEN[actor.username]
    paged = [t.id for p in pages for t in p.items]
    assert sorted(paged) == sorted(t.id for t in whole.items)  # each once, none left out
    assert {t.element_id for t in upp_only.items} <= {"a"}
    if "count_cap" not in WAYS[way]:
        assert whole.total == SEEN[actor.username] and whole.total_exact
        assert all(p.total == SEEN[actor.username] or not p.items for p in pages[:1])


def test_long_lists_are_counted_up_to_the_cap(filled: Engine) -> None:
    aud, admin = ACTORS[1], ACTORS[4]
    with filled.read() as s:
        for way in WAYS.values():
            capped = Queries(s.session, **{**way, "count_cap": 3}).tasks(aud, per_page=2)
            assert (capped.total, capped.total_exact, len(capped.items)) == (3, False, 2)
            exact = Queries(s.session, **{**way, "count_cap": 4}).tasks(aud, per_page=2)
            assert (exact.total, exact.total_exact, len(exact.items)) == (4, True, 2)
            filtered = Queries(s.session, **{**way, "count_cap": 2}).tasks(
                aud, per_page=1, unassigned=True)
            assert (filtered.total, filtered.total_exact) == (2, False)
        assert Queries(s.session, count_cap=5).tasks(admin, per_page=2).total == 5
        assert not Queries(s.session, count_cap=5).tasks(admin, per_page=2).total_exact
        assert Queries(s.session, count_cap=11).tasks(admin, per_page=2).total_exact


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: a.username)
def test_no_statement_of_a_list_counts_past_the_cap(filled: Engine, actor: Actor) -> None:
    # Counting every match exactly took most of a busy role's list time; every
    # statement that counts or reads candidate rows stops one past the cap.
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(filled.db.engine, "before_cursor_execute", record)
    try:
        with filled.read() as s:
            for way in WAYS.values():
                queries = Queries(s.session, **{**way, "count_cap": 2})
                queries.tasks(actor, per_page=1)
                queries.tasks(actor, per_page=1, unassigned=True)
    finally:
        sa.event.remove(filled.db.engine, "before_cursor_execute", record)
    for sql, params in seen:
        lowered = sql.lower()
        if "count(" in lowered or "task_candidate" in lowered.split("where")[0]:
            assert "limit" in lowered, sql
            values = params.values() if isinstance(params, dict) else params
            assert 3 in list(values), (sql, params)  # the cap plus one


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


def test_candidate_rows_carry_their_task_company_and_follow_its_state(filled: Engine) -> None:
    # A customer's list is counted off the candidate rows alone, so they must say
    # what the task says: its company, and its state once finished (on SQLite by
    # the trigger of migration 0015, on PostgreSQL in the finishing statement).
    with filled.write() as s:
        cancelled = s.queries.tasks(ACTORS[4], business_key="M-3").items
        s.runtime.cancel(cancelled[0].instance_id, actor="boss")
    with filled.read() as s:
        rows = s.session.execute(
            sa.select(Task.id, Task.state, Task.company, TaskCandidate.state,
                      TaskCandidate.company)
            .join(TaskCandidate, TaskCandidate.task_id == Task.id)).all()
    assert len(rows) == 20
    assert {(state, company) for _, state, company, *_ in rows} == {
        ("completed", "PT B"), ("ready", "PT A"), ("ready", "PT B"), ("cancelled", "PT A")}
    assert all(row[1:3] == row[3:5] for row in rows), rows


def test_instance_lists_count_up_to_the_cap_and_keep_their_order(filled: Engine) -> None:
    """The monitor's list counts no further than the cap and says so; its pages come
    newest first (then by id), the same with any cap."""
    boss, cust = ACTORS[4], ACTORS[3]
    with filled.read() as s:
        everything = Queries(s.session).instances(boss, per_page=10)
        capped = Queries(s.session, count_cap=3).instances(boss, per_page=2)
        exact = Queries(s.session, count_cap=4).instances(boss, per_page=2)
        second = Queries(s.session, count_cap=3).instances(boss, page=2, per_page=2)
        theirs = Queries(s.session, count_cap=1).instances(cust, per_page=10)
        started = {i.id: i.started_at for i in everything.items}
    assert (everything.total, everything.total_exact) == (4, True)
    assert (capped.total, capped.total_exact) == (3, False)
    assert (exact.total, exact.total_exact) == (4, True)
    order = [i.id for i in everything.items]
    assert order == sorted(order, key=lambda i: (-started[i].timestamp(), i))
    assert [i.id for i in capped.items + second.items] == order
    # Only their company's two, counted past a cap of one.
    assert {i.company for i in theirs.items} == {"PT A"} and len(theirs.items) == 2
    assert (theirs.total, theirs.total_exact) == (1, False)


def test_a_customer_without_a_company_sees_no_work_not_even_work_without_a_company(
        engine: Engine) -> None:
    """An account with the customer role and no company (edited by hand, or signed in
    from elsewhere) must not read "no company" as its own: staff's instances have none."""
    with engine.write() as s:
        s.deployments.deploy([("mixed.bpmn", definitions("mixed", FLOW).encode())])
        started = s.runtime.start_instance("mixed", business_key="STAFF-1")  # no company
    nobody = Actor.of("lost", ["pelanggan"])
    assert nobody.company == ""
    assert Actor.of("staff", ["upp"]).company is None  # staff keep what they were given
    with engine.read() as s:
        queries = Queries(s.session)
        task_b = s.session.scalars(sa.select(Task).where(
            Task.instance_id == started.id, Task.element_id == "b")).one()
        assert task_b.company is None and "pelanggan" in task_b.candidate_groups
        assert queries.tasks(nobody, per_page=100).items == []
        assert queries.instances(nobody).items == []
        with pytest.raises(NotFound):
            queries.instance(nobody, started.id)
        assert not may_act_on(nobody, task_b)
        # A customer of a company is refused it too, as before.
        assert not may_act_on(ACTORS[3], task_b)
