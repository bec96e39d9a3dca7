"""A staff member's task list keeps to the candidate index once the database has statistics.

Without statistics SQLite reads a staff list's count off the candidate index.
After ANALYZE (SQLite), and always on PostgreSQL, the planner chose for one
condition over all of a person's names to walk every task in the state
instead, the finished ones included: with thousands of finished tasks that
walk was most of the list's time. These tests grow such a database (finished
copies of real task rows, bulk-inserted), gather statistics, and read each
statement's plan.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.identity.access import Actor
from engine.models import Task, TaskCandidate
from engine.queries.lists import Queries
from tests.builders import definitions, process

FLOW = process("plans", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="c" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" camunda:dueDate="P1D" />
    <bpmn:userTask id="b" camunda:candidateGroups="auditor" camunda:dueDate="P2D" />
    <bpmn:userTask id="c" camunda:candidateGroups="ppc,tim-teknis" />
    <bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f7" sourceRef="c" targetRef="join" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f8" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end" />
""")

OPEN_INSTANCES = 6
# Copies of each task started: a few thousand finished tasks per role beside a
# few hundred open ones, as in a database that has run for a while.
OPEN_COPIES = 100
FINISHED_COPIES = 700
STAFF = [Actor.of("upp1", ["upp"]), Actor.of("tiga", ["auditor", "ppc", "tim-teknis"])]
CANDIDATE_INDEX = "ix_task_candidate_open"


@pytest.fixture
def aged(engine: Engine) -> Engine:
    """Open tasks started through the runtime, finished copies of them bulk-inserted,
    and the statistics gathered (ANALYZE, as autovacuum would on PostgreSQL)."""
    with engine.write() as s:
        s.deployments.deploy([("plans.bpmn", definitions("plans", FLOW).encode())])
        for n in range(OPEN_INSTANCES):
            s.runtime.start_instance("plans", business_key=f"P-{n}")
    tasks, candidates = Task.__table__, TaskCandidate.__table__
    with engine.write() as s:
        conn = s.session.connection()
        open_tasks = [dict(row) for row in conn.execute(sa.select(tasks)).mappings()]
        named = [dict(row) for row in conn.execute(sa.select(candidates)).mappings()]
        copies: list[dict[str, Any]] = []
        copied_candidates: list[dict[str, Any]] = []
        for n in range(OPEN_COPIES + FINISHED_COPIES):
            state = "ready" if n < OPEN_COPIES else "completed"
            earlier = timedelta(days=1 + n % 300)
            for task in open_tasks:
                copy = {**task, "id": str(uuid.uuid4()), "state": state,
                        "created_at": task["created_at"] - earlier,
                        "due_order": task["due_order"] - earlier}
                if state == "completed":
                    copy.update(completed_at=task["created_at"], completed_by="someone")
                copies.append(copy)
                copied_candidates += [{**row, "task_id": copy["id"], "state": state}
                                      for row in named if row["task_id"] == task["id"]]
        conn.execute(sa.insert(tasks), copies)
        conn.execute(sa.insert(candidates), copied_candidates)
    with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql"
                             else "ANALYZE")
    return engine


def statements(engine: Engine, actor: Actor, role: str | None = None, **ways: int
               ) -> list[tuple[str, Any]]:
    """The SELECTs the first page (of 50) of ``actor``'s list runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        with engine.read() as s:
            page = Queries(s.session, **ways).tasks(actor, role=role, per_page=50)
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", record)
    assert page.items, "the list is read as far as its page"
    return seen


def plan(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The database's plan of ``statement``, one line per node."""
    with engine.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [str(row[3]) for row in rows]
        return [str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]


def counting(engine: Engine, actor: Actor, role: str | None = None) -> tuple[str, Any]:
    [found] = [(sql, params) for sql, params in statements(engine, actor, role)
               if "count(" in sql.lower() and "task_candidate" in sql.lower()]
    return found


@pytest.mark.parametrize("actor", STAFF, ids=lambda a: a.username)
def test_the_count_reads_the_candidate_index_with_statistics(aged: Engine, actor: Actor
                                                              ) -> None:
    lines = plan(aged, *counting(aged, actor))
    read = [line for line in lines if "task_candidate" in line]
    assert read, lines
    # Every read of the candidate rows is a range of their index, read in order
    # and so stopping one past the cap: not the primary key (SQLite walked it),
    # not the table's rows (PostgreSQL fetched every open row of the roles by
    # a bitmap, then deduplicated them all), not the task rows in the state.
    assert all(CANDIDATE_INDEX in line for line in read), "\n".join(lines)
    assert not any(line.lstrip().startswith(("SCAN task", "Seq Scan on task")) for line in lines
                   ), "\n".join(lines)


@pytest.mark.parametrize("actor", STAFF, ids=lambda a: a.username)
def test_the_walk_checks_each_task_it_reads(aged: Engine, actor: Actor) -> None:
    # sparse=0: the list is read along the due-date index, as a long one is.
    walks = [(sql, params) for sql, params in statements(aged, actor, sparse=0)
             if "due_order <=" in sql]
    assert walks
    lines = plan(aged, *walks[0])
    text = "\n".join(lines)
    if aged.db.engine.dialect.name == "sqlite":
        assert "CORRELATED" in text, text
    else:
        # A subplan run for each task read, not one (or a join) that first hashes
        # every candidate row of the actor's roles, finished tasks' included.
        assert "SubPlan" in text and "hash" not in text.lower(), text


def test_a_list_of_a_role_held_is_counted_off_that_role_alone(aged: Engine) -> None:
    tiga = STAFF[1]
    sql, params = counting(aged, tiga, "ppc")
    values = list(params.values() if isinstance(params, dict) else params)
    # The other names' ranges would only find the same tasks again, or none.
    assert "ppc" in values and not {"auditor", "tim-teknis"} & set(values), (sql, values)
    with aged.read() as s:
        listed = Queries(s.session, count_cap=10_000).tasks(tiga, role="ppc", per_page=200)
        expected = s.session.scalar(sa.select(sa.func.count()).select_from(Task).where(
            Task.state == "ready", Task.element_id == "c"))
    assert (listed.total, listed.total_exact) == (expected, True)
    assert {task.element_id for task in listed.items} == {"c"}


@pytest.mark.parametrize("actor", STAFF, ids=lambda a: a.username)
def test_the_tasks_assigned_to_a_person_are_read_off_the_assignee_index(
        aged: Engine, actor: Actor) -> None:
    # The index holds assigned tasks only (migration 0020): a list's "assigned to
    # me" part is still read off it, since "assignee = ?" implies it is not null.
    lines = plan(aged, *counting(aged, actor))
    assert any("ix_task_state_assignee" in line for line in lines), "\n".join(lines)
