"""A completion's writes: statements run on the driver's cursor (engine.persistence.direct),
and on PostgreSQL the task's finish written by the instance's update, one round trip
fewer, yet seen finished by everything the command does before that update."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from engine.composition import Engine
from engine.errors import ConcurrentModification, TaskAlreadyCompleted
from engine.identity.access import ADMIN, Actor
from engine.models import (
    HistoryEvent,
    InstanceSearchWord,
    Notification,
    ProcessInstance,
    Task,
    TaskCandidate,
)
from engine.notifications import outbox
from engine.persistence.db import create_db_engine
from engine.persistence.direct import Direct
from engine.runtime.handlers import TopicRegistry
from tests.builders import definitions, linear_user_tasks, process, service
from tests.instances import the_ready_task
from tests.postgres import PostgresServer
from tests.statements import sent_statements

_task: sa.Table = Task.__table__  # type: ignore[assignment]

SPLIT = process("split", """\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="b" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" />
    <bpmn:userTask id="b" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="stop" />
    <bpmn:endEvent id="stop"><bpmn:terminateEventDefinition /></bpmn:endEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="end" />
    <bpmn:endEvent id="end" />
""")

ASKED = process("asked", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="who" />
{service("who", "who.completed")}
    <bpmn:sequenceFlow id="f3" sourceRef="who" targetRef="b" />
    <bpmn:userTask id="b" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def deploy(engine: Engine, key: str, xml: str) -> None:
    with engine.write() as s:
        s.deployments.deploy([(f"{key}.bpmn", xml.encode())])


def start(engine: Engine, key: str) -> str:
    with engine.write() as s:
        return s.runtime.start_instance(key, actor="pelanggan").id


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent to the database meanwhile, by their first word."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0].upper())

    sa.event.listen(engine.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", record)


def task_states(engine: Engine, instance_id: str) -> dict[str, tuple[str, str | None]]:
    with engine.read() as s:
        return {row.element_id: (row.state, row.completed_by) for row in s.session.execute(
            sa.select(Task.element_id, Task.state, Task.completed_by)
            .where(Task.instance_id == instance_id))}


def candidate_states(engine: Engine, instance_id: str) -> dict[str, set[str]]:
    with engine.read() as s:
        rows = s.session.execute(
            sa.select(Task.element_id, TaskCandidate.state)
            .join(TaskCandidate, TaskCandidate.task_id == Task.id)
            .where(Task.instance_id == instance_id))
        found: dict[str, set[str]] = {}
        for element, state in rows:
            found.setdefault(element, set()).add(state)
        return found


# -- statements on the driver's cursor ----------------------------------------------------


def test_a_direct_insert_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    at = datetime(2027, 3, 1, 2, 0, 0, 123456, tzinfo=UTC)
    row = {"id": "", "instance_id": instance_id, "definition_key": "linear",
           "element_id": "x", "title": "Periksa", "lane": None, "company": "PT A",
           "state": "completed", "assignee": None, "priority": 7, "form_key": None,
           "properties": {"kunci": ["nilai", 1.5]}, "created_at": at, "due_at": None,
           "due_order": at, "follow_up_at": None, "completed_at": at, "completed_by": "u",
           "candidate_groups": ["upp"], "candidate_users": []}
    direct = "0b9a0c1e-6d3f-4c55-9a57-2f6f8d1c9e01"
    through_sqlalchemy = "0b9a0c1e-6d3f-4c55-9a57-2f6f8d1c9e02"
    with engine.write() as s:
        conn = s.session.connection()
        assert Direct(_task.insert()).execute(conn, [{**row, "id": direct}]) == 1
        conn.execute(_task.insert(), [{**row, "id": through_sqlalchemy}])
    with engine.read() as s:
        read = {r.id: r._asdict() for r in s.session.execute(
            sa.select(_task).where(_task.c.id.in_([direct, through_sqlalchemy])))}
        stored = {r.id: r._asdict() for r in s.session.execute(
            sa.select(_task.c.id, sa.cast(_task.c.id, sa.LargeBinary).label("raw_id"),
                      sa.cast(_task.c.created_at, sa.String).label("raw_at"))
            .where(_task.c.id.in_([direct, through_sqlalchemy])))}
    assert read[direct] == {**read[through_sqlalchemy], "id": direct}
    assert read[direct]["properties"] == {"kunci": ["nilai", 1.5]}
    assert read[direct]["created_at"] == at
    # Stored alike too (SQLite: the id as 16 bytes, the moment as microseconds).
    assert len(stored[direct]["raw_id"]) == len(stored[through_sqlalchemy]["raw_id"])
    assert stored[direct]["raw_at"] == stored[through_sqlalchemy]["raw_at"]


def test_a_row_lacking_a_column_with_a_python_default_goes_through_sqlalchemy(
        engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    at = datetime(2027, 3, 1, tzinfo=UTC)
    with engine.write() as s:
        # No priority, properties or candidate lists: their defaults are Python's.
        Direct(_task.insert()).execute(s.session.connection(), [{
            "id": "t-defaults", "instance_id": instance_id, "definition_key": "linear",
            "element_id": "x", "state": "ready", "created_at": at, "due_order": at}])
    with engine.read() as s:
        task = s.session.get(Task, "t-defaults")
        assert task is not None
        assert (task.priority, task.properties, task.candidate_groups) == (50, {}, [])


def test_a_direct_statement_fails_as_sqlalchemy_would(engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    at = datetime(2027, 3, 1, tzinfo=UTC)
    with pytest.raises(sa.exc.IntegrityError), engine.write() as s:
        Direct(_task.insert()).execute(s.session.connection(), {
            "id": task.id, "instance_id": instance_id, "definition_key": "linear",
            "element_id": "x", "state": "ready", "created_at": at, "due_order": at,
            "priority": 1, "properties": {}, "candidate_groups": [], "candidate_users": []})
    assert the_ready_task(engine, instance_id).id == task.id


# -- a completion's round trips ---------------------------------------------------------------


def test_a_completion_sends_the_task_its_finish_with_the_instance_update(
        engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 2))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    with statements(engine) as seen, engine.write() as s:
        s.runtime.complete_task(task.id, {"catatan": "sesuai"}, actor="petugas")
    if engine.db.is_sqlite:
        # BEGIN (on the driver's cursor too), the one read, then the writes: the
        # task's finish, an executemany per table of new rows, the instance's update.
        assert seen[:3] == ["BEGIN", "SELECT", "UPDATE"] and seen[-1] == "UPDATE"
        assert set(seen[3:-1]) == {"INSERT"}
    else:
        # The locked read, then one statement for every write (BEGIN and COMMIT are
        # psycopg's own): the task's finish used to take a round trip of its own.
        assert seen == ["SELECT", "WITH"]
    assert task_states(engine, instance_id) == {"task_1": ("completed", "petugas"),
                                                "task_2": ("ready", None)}
    assert candidate_states(engine, instance_id) == {"task_1": {"completed"},
                                                     "task_2": {"ready"}}


def test_tasks_a_completion_cancels_are_finished_at_once_and_recorded(engine: Engine) -> None:
    deploy(engine, "split", definitions("split", SPLIT))
    instance_id = start(engine, "split")
    with engine.read() as s:
        a = s.session.scalars(sa.select(Task).where(Task.instance_id == instance_id,
                                                    Task.element_id == "a")).one()
    with engine.write() as s:
        s.runtime.complete_task(a.id, {}, actor="petugas")
        assert s.runtime.instance(instance_id).status == "completed"
    assert task_states(engine, instance_id) == {"a": ("completed", "petugas"),
                                                "b": ("cancelled", None)}
    assert candidate_states(engine, instance_id) == {"a": {"completed"}, "b": {"cancelled"}}
    with engine.read() as s:
        kinds = list(s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id)))
    assert kinds.count("task_completed") == 1 and kinds.count("task_cancelled") == 1


def test_what_runs_after_a_completion_sees_its_task_completed(
        engine: Engine, topics: TopicRegistry) -> None:
    seen: list[list[tuple[str, str | None]]] = []

    def who(call: Any) -> dict[str, Any]:
        session = call.context.session
        seen.append([tuple(r) for r in session.execute(
            sa.select(Task.element_id, Task.completed_by).where(
                Task.instance_id == call.instance_id, Task.state == "completed"))])
        return {}

    topics.register("who.completed", who)
    deploy(engine, "asked", definitions("asked", ASKED))
    instance_id = start(engine, "asked")
    task = the_ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="petugas")
    assert seen == [[("a", "petugas")]]
    assert task_states(engine, instance_id) == {"a": ("completed", "petugas"),
                                                "b": ("ready", None)}
    assert candidate_states(engine, instance_id) == {"a": {"completed"}, "b": {"ready"}}


def test_a_held_finish_is_written_by_the_commit_when_nothing_else_writes_it(
        engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    with engine.write() as s:
        s.runtime.loader.ready_task(task.id)
        s.runtime.store.finish_held_task(task.id, datetime(2027, 3, 1, tzinfo=UTC), "petugas")
    assert task_states(engine, instance_id) == {"task_1": ("completed", "petugas")}
    assert candidate_states(engine, instance_id) == {"task_1": {"completed"}}


def test_a_held_finish_of_a_command_rolled_back_is_never_written(engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    with pytest.raises(RuntimeError), engine.write() as s:
        s.runtime.loader.ready_task(task.id)
        s.runtime.store.finish_held_task(task.id, datetime(2027, 3, 1, tzinfo=UTC), "petugas")
        raise RuntimeError("the command fails")
    for _ in range(3):  # the pool's connection, used again, writes nothing left over
        with engine.write() as s:
            s.session.execute(sa.select(Task.id).where(Task.id == task.id))
    assert task_states(engine, instance_id) == {"task_1": ("ready", None)}


def test_a_held_finish_that_finds_its_task_done_fails_the_whole_command(
        engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 2))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    with engine.read() as s:
        revision = s.runtime.instance(instance_id).revision
    expected: type[Exception] = (TaskAlreadyCompleted if engine.db.is_sqlite
                                 else ConcurrentModification)
    with pytest.raises(expected), engine.write() as s:
        rt = s.runtime
        held, instance = rt.loader.ready_task(task.id)
        run = rt.loader.workflow(instance)
        ready_before = run.ready_user_task_ids() - {held.id}
        run.complete_user_task(held.id, {})
        # What the row lock rules out, done by hand: the task is no longer ready.
        s.session.execute(_task.update().where(_task.c.id == held.id)
                          .values(state="cancelled"))
        rt.store.finish_held_task(held.id, datetime(2027, 3, 1, tzinfo=UTC), "petugas")
        rt.advance_and_save(instance, run, "petugas", ready_before)
    assert task_states(engine, instance_id) == {"task_1": ("ready", None)}
    with engine.read() as s:
        assert s.runtime.instance(instance_id).revision == revision


def test_a_held_finish_is_written_before_a_statement_run_on_the_cursor(
        engine: Engine) -> None:
    """The statements engine.persistence.direct runs (one instance's task list among
    them) skip Connection.execute, yet see the held task finished like any other."""
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    boss = Actor.of("boss", [ADMIN])
    with engine.write() as s:
        s.runtime.loader.ready_task(task.id)
        s.runtime.store.finish_held_task(task.id, datetime(2027, 3, 1, tzinfo=UTC), "petugas")
        assert s.queries.tasks(boss, instance_id=instance_id).items == []
        done = s.queries.tasks(boss, instance_id=instance_id, state="completed").items
        assert [(t.element_id, t.completed_by) for t in done] == [("task_1", "petugas")]
    assert task_states(engine, instance_id) == {"task_1": ("completed", "petugas")}


# -- a start's and an end's round trips -------------------------------------------------------

LOOKED_UP = process("looked", f"""\
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />
{service("look", "look.instance")}
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="a" />
    <bpmn:userTask id="a" camunda:candidateGroups="upp" />
    <bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="end" />
    <bpmn:endEvent id="end" />
""")


def notice_kinds(engine: Engine, instance_id: str) -> list[str]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Notification.kind).where(
            Notification.instance_id == instance_id)))


def test_a_start_writes_its_instance_with_its_rows(engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 2))
    with statements(engine) as seen, engine.write() as s:
        instance = s.runtime.start_instance("linear", business_key="PRM-9", actor="pelanggan")
    if engine.db.is_sqlite:
        assert seen.count("INSERT") >= 2 and seen[-1] == "UPDATE"
    else:
        # The definition's read, then one statement: the instance's row inserted as
        # saved, its task, candidates, history and search words in its WITH clause.
        assert seen[-1] == "WITH" and "INSERT" not in seen and "UPDATE" not in seen
    with engine.read() as s:
        row = s.session.get(ProcessInstance, instance.id)
        assert row is not None
        assert (row.status, row.revision, row.business_key) == ("running", 2, "PRM-9")
        assert row.state and row.started_at <= row.updated_at
        words = set(s.session.scalars(sa.select(InstanceSearchWord.word).where(
            InstanceSearchWord.instance_id == instance.id)))
    assert words == {"prm", "9"}
    assert task_states(engine, instance.id) == {"task_1": ("ready", None)}
    assert candidate_states(engine, instance.id) == {"task_1": {"ready"}}


def test_a_new_instance_is_written_before_anything_its_start_reads(
        engine: Engine, topics: TopicRegistry) -> None:
    """On PostgreSQL the new row waits for the instance's save; a statement sent before
    then (a service task's read here) finds it, as with any other waiting write."""
    seen: list[tuple[str, int]] = []

    def look(call: Any) -> dict[str, Any]:
        row = call.context.session.execute(
            sa.select(ProcessInstance.status, ProcessInstance.revision)
            .where(ProcessInstance.id == call.instance_id)).one()
        seen.append(tuple(row))
        return {}

    topics.register("look.instance", look)
    deploy(engine, "looked", definitions("looked", LOOKED_UP))
    instance_id = start(engine, "looked")
    assert seen == [("running", 1)]
    with engine.read() as s:
        row = s.session.get(ProcessInstance, instance_id)
        assert row is not None and (row.status, row.revision) == ("running", 2)
    assert task_states(engine, instance_id) == {"a": ("ready", None)}


def test_the_save_that_ends_an_instance_forgets_its_notices_of_work(engine: Engine) -> None:
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    assert notice_kinds(engine, instance_id) == ["task_created"]
    task = the_ready_task(engine, instance_id)
    with statements(engine) as seen, engine.write() as s:
        s.runtime.complete_task(task.id, {}, actor="petugas")
    if not engine.db.is_sqlite:
        assert seen == ["SELECT", "WITH"]  # the notices' DELETE is a part of the update
    assert notice_kinds(engine, instance_id) == []


def test_a_notice_of_work_queued_by_the_command_that_ends_the_instance_is_not_kept(
        engine: Engine) -> None:
    """On PostgreSQL the ending save's DELETE does not see rows its own statement
    inserts: the queued notices of work are left out instead; others are written."""
    deploy(engine, "linear", linear_user_tasks("linear", 1))
    instance_id = start(engine, "linear")
    task = the_ready_task(engine, instance_id)
    at = datetime(2027, 3, 1, tzinfo=UTC)
    with engine.write() as s:
        sink = s.runtime.store.add_row
        outbox.queue_task_created(s.session, task_id=task.id, instance_id=instance_id,
                                  title="lagi", now=at, sink=sink)
        outbox.queue(s.session, kind="sla_breached", now=at, subject="Terlambat",
                     instance_id=instance_id, task_id=task.id, sink=sink)
        s.runtime.cancel(instance_id, actor="petugas", reason=None)
    assert notice_kinds(engine, instance_id) == ["sla_breached"]


@pytest.mark.postgres
def test_direct_statements_run_with_postgres_own_parameters(pg_direct: sa.Engine) -> None:
    """psycopg's raw cursor: ``$n`` written once, a name used twice bound once, a
    ``%`` in the SQL kept."""
    cursors: list[tuple[str, str]] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        cursors.append((type(cursor).__name__, statement))

    statement = Direct(sa.select(
        sa.literal_column("'50%'"), sa.bindparam("p_x", type_=sa.String),
        sa.func.concat(sa.bindparam("p_x", type_=sa.String), sa.bindparam("p_y", type_=sa.String))))
    sa.event.listen(pg_direct, "before_cursor_execute", record)
    try:
        with pg_direct.connect() as conn:
            assert statement.first(conn, {"p_x": "a", "p_y": "b"}) == ("50%", "a", "ab")
    finally:
        sa.event.remove(pg_direct, "before_cursor_execute", record)
    [(cursor, sql)] = cursors
    assert cursor == "RawCursor"
    assert "$1" in sql and "$2" in sql and "$3" not in sql and "'50%'" in sql


@pytest.fixture
def pg_direct(postgres_server: PostgresServer) -> Iterator[sa.Engine]:
    built = create_db_engine(postgres_server.url())
    yield built
    built.dispose()


# -- the instance's status -----------------------------------------------------------------


def instance_updates(statements: list[str]) -> list[str]:
    """The SET clauses of the instance's updates among ``statements``."""
    return [re.search(r"SET (.*?) WHERE", statement, re.DOTALL).group(1)  # type: ignore[union-attr]
            for statement in statements if statement.startswith("UPDATE process_instance")]


def stored_status(engine: Engine, instance_id: str) -> str:
    with engine.read() as s:
        return str(s.session.scalar(sa.select(ProcessInstance.status)
                                    .where(ProcessInstance.id == instance_id)))


def test_a_save_writes_the_instance_status_only_when_the_command_changed_it(
        engine: Engine) -> None:
    # SQLite rewrites the index entry of every column an UPDATE sets, changed or not:
    # a status written back as it was cost a page per save.
    deploy(engine, "linear", linear_user_tasks("linear", 2))
    instance_id = start(engine, "linear")
    sets: list[list[str]] = []

    def step(command: Any) -> None:
        with sent_statements(engine.db.engine) as sent, engine.write() as s:
            command(s.runtime)
        sets.append(instance_updates(sent))

    first = the_ready_task(engine, instance_id).id
    step(lambda rt: rt.complete_task(first, {}, actor="upp"))
    assert stored_status(engine, instance_id) == "running"
    step(lambda rt: rt.suspend(instance_id, actor="admin"))
    assert stored_status(engine, instance_id) == "suspended"
    step(lambda rt: rt.resume(instance_id, actor="admin"))
    assert stored_status(engine, instance_id) == "running"
    last = the_ready_task(engine, instance_id).id
    step(lambda rt: rt.complete_task(last, {}, actor="upp"))
    assert stored_status(engine, instance_id) == "completed"
    with engine.read() as s:
        ended = s.session.get(ProcessInstance, instance_id)
        assert ended is not None and ended.ended_at is not None and ended.revision == 6
    if engine.db.is_sqlite:  # PostgreSQL's joined update writes it whatever it is
        writes_status = [["status" in clause for clause in clauses] for clauses in sets]
        assert writes_status == [[False], [True], [True], [True]]


def test_a_status_changed_and_changed_back_within_one_command_is_stored_as_left(
        engine: Engine) -> None:
    # The second save compares with what the first one wrote, not with what was read.
    deploy(engine, "linear", linear_user_tasks("linear", 2))
    instance_id = start(engine, "linear")
    with engine.write() as s:
        loader = s.runtime.loader
        instance = loader.instance(instance_id)
        instance.status = "suspended"
        loader.save_without_state(instance)
        instance.status = "running"
        loader.save_without_state(instance)
    assert stored_status(engine, instance_id) == "running"
