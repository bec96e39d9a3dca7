"""Persistence: migrations match the models, specs are stored once, both databases work."""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import sqlite

from engine.bpmn.serializer import dump_state
from engine.composition import Engine
from engine.config import Settings, load_settings
from engine.models import (
    Document,
    HistoryEvent,
    ProcessDefinition,
    ProcessInstance,
    Task,
    Timer,
)
from engine.models.history import stored_text
from engine.models.tasks import NO_DUE_DATE
from engine.persistence.db import (
    Base,
    CompactDigest,
    CompactUTCDateTime,
    CompactUUID,
    digest_bytes,
    digest_text,
    uuid_bytes,
    uuid_text,
)
from engine.persistence.migrate import alembic_config, upgrade
from engine.persistence.packing import CodedText
from engine.time.clock import FrozenClock
from lspro import LsproExtension
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from tests.builders import definitions, linear_user_tasks
from tests.instances import stored_state
from tests.samples import TIMER
from tests.settings import LSPRO


def _schema_differences(engine: Engine) -> list[object]:
    with engine.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    assert _schema_differences(engine) == []


def test_migration_0007_gives_existing_tasks_their_candidate_lists(tmp_path: Path) -> None:
    db = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0006")
    now = datetime(2026, 11, 2, tzinfo=UTC).isoformat()
    with db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO process_instance (id, definition_id, definition_key, status, state, "
            "revision, waits_digest, started_at, updated_at) "
            "VALUES ('i1', 'd', 'k', 'running', x'', 1, '', :now, :now)"), {"now": now})
        for task_id in ("t1", "t2"):
            conn.execute(sa.text(
                "INSERT INTO task (id, instance_id, definition_key, element_id, state, "
                "priority, properties, created_at, due_order) "
                "VALUES (:id, 'i1', 'k', 'e', 'ready', 50, '{}', :now, :now)"),
                {"id": task_id, "now": now})
        conn.execute(sa.text(
            "INSERT INTO task_candidate (task_id, kind, value, state) VALUES "
            "('t1', 'group', 'upp', 'ready'), ('t1', 'group', 'ppc', 'ready'), "
            "('t1', 'user', 'rina', 'ready')"))
    upgrade(db)
    with db.connect() as conn:
        rows = dict(conn.execute(sa.text(
            "SELECT id, candidate_groups || '|' || candidate_users FROM task ORDER BY id")).all())
    db.dispose()
    assert rows == {"t1": '["ppc", "upp"]|["rina"]', "t2": "[]|[]"}


def test_migration_0015_gives_candidates_their_task_company_and_sqlite_a_trigger(
        tmp_path: Path) -> None:
    db = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0013")
    now = datetime(2026, 11, 2, tzinfo=UTC).isoformat()
    with db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO process_instance (id, definition_id, definition_key, status, state, "
            "revision, waits_digest, started_at, updated_at) "
            "VALUES ('i1', 'd', 'k', 'running', x'', 1, '', :now, :now)"), {"now": now})
        for task_id, company in (("t1", "PT A"), ("t2", None)):
            conn.execute(sa.text(
                "INSERT INTO task (id, instance_id, definition_key, element_id, company, state, "
                "priority, properties, created_at, due_order, candidate_groups, "
                "candidate_users) VALUES (:id, 'i1', 'k', 'e', :company, 'ready', 50, '{}', "
                ":now, :now, '[]', '[]')"), {"id": task_id, "company": company, "now": now})
        conn.execute(sa.text(
            "INSERT INTO task_candidate (task_id, kind, value, state) VALUES "
            "('t1', 'group', 'upp', 'ready'), ('t1', 'user', 'rina', 'ready'), "
            "('t2', 'group', 'upp', 'ready')"))
    upgrade(db, "0018")  # the raw values below are as 0015 writes them, not 0020
    with db.begin() as conn:
        companies = set(conn.execute(sa.text(
            "SELECT task_id, value, company FROM task_candidate")).all())
        conn.execute(sa.text("UPDATE task SET state = 'completed' WHERE id = 't1'"))
        states = set(conn.execute(sa.text("SELECT task_id, state FROM task_candidate")).all())
    db.dispose()
    assert companies == {("t1", "upp", "PT A"), ("t1", "rina", "PT A"), ("t2", "upp", None)}
    assert states == {("t1", "completed"), ("t2", "ready")}


TASK_UUID = "5d1c8920-e5a2-4442-a6b8-835f23e01f3f"
SHA256 = hashlib.sha256(b"a.pdf").hexdigest()


def _old_rows_at_0016(db: sa.Engine) -> None:
    """Rows as the code of revision 0016 wrote them: moments as SQLite text."""
    upgrade(db, "0016")
    with db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO process_instance (id, definition_id, definition_key, status, state, "
            "revision, waits_digest, started_at, updated_at, ended_at) VALUES ('i1', 'd', "
            "'k', 'completed', x'', 1, '', '2026-11-02 08:00:00.000000', "
            "'2026-11-02 09:30:00.250000', '2026-11-02 09:30:00.250000')"))
        for task_id, created, due, done in (
                ("t1", "2026-11-02 08:00:00.000001", "2026-11-09 08:00:00.000000",
                 "2026-11-02 09:30:00.250000"),
                ("t2", "2026-11-02 09:30:00.250000", None, None)):
            conn.execute(sa.text(
                "INSERT INTO task (id, instance_id, definition_key, element_id, state, "
                "priority, properties, created_at, due_at, due_order, completed_at, "
                "candidate_groups, candidate_users) VALUES (:id, 'i1', 'k', 'e', 'ready', "
                "50, '{}', :created, :due, coalesce(:due, '9999-12-31 00:00:00.000000'), "
                ":done, '[]', '[]')"),
                {"id": task_id, "created": created, "due": due, "done": done})
        conn.execute(sa.text(
            "INSERT INTO history_event (instance_id, at, kind, task_id) VALUES "
            "('i1', '2026-11-02 08:00:00.000000', 'instance_started', NULL), "
            "('i1', '2026-11-02 08:10:00.000000', 'task_completed', :uuid), "
            "('i1', '2026-11-02 08:20:00.000000', 'task_completed', 't1'), "
            "('i1', '2026-11-02T09:30:00.250000+00:00', 'instance_completed', NULL)"),
            {"uuid": TASK_UUID})
        conn.execute(sa.text(
            "INSERT INTO task_candidate (task_id, kind, value, state, company) VALUES "
            "('t1', 'group', 'upp', 'ready', 'PT A'), ('t2', 'user', 'rina', 'ready', NULL)"))
        conn.execute(sa.text(
            "INSERT INTO instance_search_word (instance_id, word) VALUES ('i1', 'biskuit')"))
        conn.execute(sa.text(
            "INSERT INTO document (id, instance_id, task_id, name, content_type, sha256, "
            "uploaded_at) VALUES ('d1', 'i1', :uuid, 'a.pdf', 'application/pdf', :sha256, "
            "'2026-11-02 08:10:00.123456')"), {"uuid": TASK_UUID, "sha256": SHA256})


def _moments(db: sa.Engine) -> dict[str, object]:
    with sa.orm.Session(db) as session:
        instance = session.get(ProcessInstance, "i1")
        tasks = session.scalars(sa.select(Task).order_by(Task.due_order)).all()
        return {
            "instance": (instance.started_at, instance.updated_at, instance.ended_at),
            "tasks": [(t.id, t.created_at, t.due_at, t.due_order, t.completed_at)
                      for t in tasks],
            "history": session.execute(sa.select(HistoryEvent.at, HistoryEvent.task_id)
                                       .order_by(HistoryEvent.id)).all(),
            "document": session.execute(sa.select(
                Document.uploaded_at, Document.task_id, Document.sha256)).one(),
        }


def _rowless_tables(conn: sa.Connection) -> set[str]:
    return set(conn.scalars(sa.text(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID'")))


def _found(db: sa.Engine) -> tuple[list[str], list[str]]:
    """What the queries by moment and by task find (typed: they bind the new forms)."""
    with sa.orm.Session(db) as session:
        return (list(session.scalars(sa.select(Task.id).where(
                    Task.due_order < datetime(2027, 1, 1, tzinfo=UTC)))),
                list(session.scalars(sa.select(Document.id).where(
                    Document.task_id == TASK_UUID, Document.sha256 == SHA256))))


def test_migration_0017_stores_old_moments_as_integers_ids_and_digests_as_bytes(
        tmp_path: Path) -> None:
    db = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _old_rows_at_0016(db)
    before = _moments(db)  # the old text, read by the new type as it is
    upgrade(db, "0018")  # the raw values below are as 0017 writes them, not 0020
    after = _moments(db)
    found = _found(db)
    with db.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT typeof(started_at), started_at FROM process_instance")).one()
        forms = set(conn.scalars(sa.text(
            "SELECT typeof(at) FROM history_event UNION SELECT typeof(due_order) FROM task "
            "UNION SELECT typeof(uploaded_at) FROM document")))
        task_ids = conn.execute(sa.text(
            "SELECT typeof(task_id), length(task_id) FROM history_event ORDER BY id")).all()
        digest = conn.execute(sa.text("SELECT typeof(sha256), length(sha256) FROM document")
                              ).one()
        rowless = _rowless_tables(conn)
    with db.begin() as conn:
        conn.execute(sa.text("UPDATE task SET state = 'completed' WHERE id = 't2'"))
        kept = set(conn.execute(sa.text(
            "SELECT task_id, value, state, company FROM task_candidate UNION ALL "
            "SELECT instance_id, word, NULL, NULL FROM instance_search_word WHERE word LIKE 'bis%'")))
    with db.begin() as conn:
        config = alembic_config(str(db.url))
        config.attributes["connection"] = conn
        alembic_command.downgrade(config, "0016")
        rowless_after_downgrade = _rowless_tables(conn)
        kept_after_downgrade = conn.scalar(sa.text(
            "SELECT count(*) FROM task_candidate JOIN instance_search_word ON true"))
        back = conn.execute(sa.text(
            "SELECT at, task_id FROM history_event WHERE kind = 'task_completed' "
            "UNION ALL SELECT uploaded_at, sha256 FROM document")).all()
    db.dispose()
    t = datetime(2026, 11, 2, 9, 30, 0, 250000, tzinfo=UTC)
    assert after == before
    assert after["instance"] == (datetime(2026, 11, 2, 8, tzinfo=UTC), t, t)
    assert [at for at, _ in after["history"]] == [
        datetime(2026, 11, 2, 8, m, tzinfo=UTC) for m in (0, 10, 20)] + [t]
    assert [task for _, task in after["history"]] == [None, TASK_UUID, "t1", None]
    assert after["document"] == (datetime(2026, 11, 2, 8, 10, 0, 123456, tzinfo=UTC),
                                 TASK_UUID, SHA256)
    assert after["tasks"][1][3] == NO_DUE_DATE and found == (["t1"], ["d1"])
    assert stored == ("integer", 1_793_606_400_000_000) and forms == {"integer"}
    assert task_ids == [("null", None), ("blob", 16), ("text", 2), ("null", None)]
    assert digest == ("blob", 32)
    assert rowless == {"task_candidate", "instance_search_word"}
    assert kept == {("t1", "upp", "ready", "PT A"), ("t2", "rina", "completed", None),
                    ("i1", "biskuit", None, None)}  # the trigger of 0015 still works
    assert rowless_after_downgrade == set() and kept_after_downgrade == 2
    assert back == [("2026-11-02 08:10:00.000000", TASK_UUID),
                    ("2026-11-02 08:20:00.000000", "t1"),
                    ("2026-11-02 08:10:00.123456", SHA256)]


def test_new_moments_are_integers_and_task_ids_bytes_on_sqlite(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])
        instance = s.runtime.start_instance("linear")
    with engine.read() as s:
        started = s.runtime.instance(instance.id).started_at
        if engine.db.is_sqlite:  # PostgreSQL keeps its timestamptz
            forms = set(s.session.scalars(sa.text(
                "SELECT typeof(at) FROM history_event UNION SELECT typeof(created_at) "
                "FROM task UNION SELECT typeof(started_at) FROM process_instance")))
            task_ids = set(s.session.scalars(sa.text(
                "SELECT typeof(task_id) FROM history_event WHERE task_id IS NOT NULL")))
            assert forms == {"integer"} and task_ids == {"blob"}
    assert started == engine.clock.now() and started.tzinfo is UTC


def test_only_text_the_bytes_give_back_exactly_is_packed() -> None:
    assert uuid_text(uuid_bytes(TASK_UUID) or b"") == TASK_UUID
    assert digest_text(digest_bytes(SHA256) or b"") == SHA256
    for other in (TASK_UUID.upper(), TASK_UUID.replace("-", ""), "{" + TASK_UUID[1:] + "}",
                  "t1", SHA256[:36]):
        assert uuid_bytes(other) is None
    for other in (SHA256.upper(), SHA256[:63] + "g", TASK_UUID):
        assert digest_bytes(other) is None


def test_sqlite_binds_ids_moments_and_words_as_their_types_say() -> None:
    # Their bind processors on SQLite skip TypeDecorator's layers: the same values.
    dialect = sqlite.dialect()
    jakarta = timezone(timedelta(hours=7))
    cases = [(CompactUUID(), [TASK_UUID, TASK_UUID.upper(), "t1", None]),
             (CompactDigest(), [SHA256, "x", None]),
             (CompactUTCDateTime(), [datetime(2027, 3, 1, 2, tzinfo=UTC),
                                     datetime(2027, 3, 1, 9, 0, 0, 5, tzinfo=jakarta), None]),
             (CodedText(("ready", "completed")), ["ready", "completed", "other", None])]
    for kind, values in cases:
        impl = kind.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        assert process is not None
        assert [process(v) for v in values] == [impl.process_bind_param(v, dialect)
                                                for v in values]
    with pytest.raises(ValueError, match="naive"):
        CompactUTCDateTime().dialect_impl(dialect).bind_processor(dialect)(datetime(2027, 3, 1))


def test_json_columns_are_stored_without_blanks_and_old_text_still_reads(
        engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])
        instance = s.runtime.start_instance("linear", variables={"a": 1, "b": [1, 2]})
    with engine.write() as s:
        s.session.add(HistoryEvent(instance_id=instance.id, at=engine.clock.now(),
                                   kind="note", data=None))
        s.session.flush()
        # A row as the code before wrote it: json.dumps with its default blanks.
        s.session.execute(sa.text("UPDATE history_event SET data = :old WHERE kind = 'note'"),
                          {"old": '{"x": [1, 2], "y": "a, b: c"}'})
    with engine.read() as s:
        # As the database holds them: SQLite deflates the longer ones (stored_text).
        sqlite = s.session.get_bind().dialect.name == "sqlite"
        stored = (sa.type_coerce(HistoryEvent.data, sa.types.NullType()) if sqlite
                  else sa.cast(HistoryEvent.data, sa.Text))
        texts = [stored_text(value) for value in s.session.scalars(
            sa.select(stored).where(HistoryEvent.kind != "note"))]
        old = s.session.scalar(sa.select(HistoryEvent.data).where(HistoryEvent.kind == "note"))
    assert any('"a":1' in text for text in texts)
    assert not any('": ' in text or ', "' in text for text in texts)
    assert old == {"x": [1, 2], "y": "a, b: c"}


def test_instance_state_holds_no_spec(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 17).encode())])
        instance = s.runtime.start_instance("linear")
    with engine.read() as s:
        row = s.session.get(ProcessInstance, instance.id)
        spec = s.session.get(ProcessDefinition, row.definition_id).spec
    stored = stored_state(engine, instance.id)
    state = zlib.decompress(stored).decode()
    assert '"task_specs"' not in state
    assert "task_specs" in spec["spec"]
    assert len(stored) < 2500


def _drive(engine: Engine) -> tuple[dict[str, object], list[str]]:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 4).encode())])
        instance = s.runtime.start_instance("linear", variables={"n": 0})
    for step in range(4):
        with engine.write() as s:
            task_id = s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == instance.id, Task.state == "ready")).one()
            s.runtime.complete_task(task_id, {"n": step + 1, f"s{step}": True}, actor="u")
    with engine.read() as s:
        variables = s.runtime.variables(s.runtime.instance(instance.id))
        kinds = list(s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance.id).order_by(HistoryEvent.id)))
    return variables, kinds


def test_workflow_cache_gives_the_same_result_as_reloading(
    engine: Engine, settings: Settings, clock: FrozenClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    reloaded = _drive(engine)
    other = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'cached.db'}",
                           "SERTIFLOW_INSTANCE_PATH": str(tmp_path / "i2"),
                           "SERTIFLOW_SECRET_KEY": "x"})
    cached_engine = Engine(other, clock=clock)
    upgrade(cached_engine.db.engine)
    try:
        cached = _drive(cached_engine)
        assert len(cached_engine.workflows) == 0  # completed instances leave the cache
    finally:
        cached_engine.close()
    assert cached == reloaded
    assert reloaded[0] == {"n": 4, "s0": True, "s1": True, "s2": True, "s3": True}


def test_stale_cache_entry_is_not_used(settings: Settings, clock: FrozenClock) -> None:
    """Two engines (two server processes) on one database: each sees the other's writes."""
    first, second = Engine(settings, clock=clock), Engine(settings, clock=clock)
    try:
        with first.write() as s:
            s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 3).encode())])
            instance = s.runtime.start_instance("linear")
        for engine in (first, second, first):
            with engine.write() as s:
                task_id = s.session.scalars(sa.select(Task.id).where(
                    Task.instance_id == instance.id, Task.state == "ready")).one()
                s.runtime.complete_task(task_id, {}, actor=str(id(engine)))
        with first.read() as s:
            assert s.runtime.instance(instance.id).status == "completed"
    finally:
        first.close()
        second.close()


@pytest.fixture
def pg_engine(postgres_url: str, tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings({"DATABASE_URL": postgres_url, "SERTIFLOW_SECRET_KEY": "x",
                              "SERTIFLOW_INSTANCE_PATH": str(tmp_path),
                              "SERTIFLOW_CALENDAR": "calendar-days"})
    clock = FrozenClock(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    engine = Engine(settings, clock=clock, extensions=[LsproExtension(LSPRO)],
                    workflow_cache_size=0)
    engine.migrate()
    yield engine
    engine.close()


@pytest.mark.postgres
def test_migrations_create_exactly_the_models_on_postgres(pg_engine: Engine) -> None:
    assert _schema_differences(pg_engine) == []


@pytest.mark.postgres
def test_process_with_timer_on_postgres(pg_engine: Engine) -> None:
    with pg_engine.write() as s:
        s.deployments.deploy([("deadline.bpmn", definitions("deadline", TIMER).encode())])
        instance = s.runtime.start_instance("deadline", business_key="PG-1")
    with pg_engine.read() as s:
        (timer,) = s.session.scalars(sa.select(Timer)).all()
    pg_engine.clock.advance(timedelta(days=15))  # type: ignore[attr-defined]
    with pg_engine.write() as s:
        assert s.runtime.due_timers() == [timer.id]
        assert s.runtime.fire_timer(timer.id)
    with pg_engine.write() as s:
        task_id = s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance.id, Task.state == "ready")).one()
        s.runtime.complete_task(task_id, {"reason": "NCR not closed"}, actor="ppc")
    with pg_engine.read() as s:
        assert s.runtime.instance(instance.id).status == "completed"
        kinds = list(s.session.scalars(sa.select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == instance.id).order_by(HistoryEvent.id)))
    assert "timer_fired" in kinds and kinds[-1] == "instance_completed"


def test_a_database_from_before_the_split_adopts_the_lspro_branch(tmp_path: Path) -> None:
    """Revision 0006 used to create the LSPro's tables; such a database keeps them and
    gets the LSPro's branch recorded, a fresh one gets them from the branch."""
    old = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old)
    lspro_tables = [Base.metadata.tables[name] for name in
                    ("certificate", "certificate_event", "invoice", "number_sequence",
                     "panel_member")]
    Base.metadata.create_all(old, tables=lspro_tables)  # what the old 0006 made
    with old.begin() as conn:
        conn.execute(sa.text("INSERT INTO number_sequence (name, year, last_value) "
                             "VALUES ('perkara:PRM', 2026, 7)"))
    upgrade(old, extension_folders=[LSPRO_MIGRATIONS])
    with old.connect() as conn:
        versions = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
        kept = conn.scalar(sa.text("SELECT last_value FROM number_sequence"))
    old.dispose()
    assert versions == {"0020", "lspro_0004"} and kept == 7

    fresh = sa.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(fresh)
    assert "certificate" not in sa.inspect(fresh).get_table_names()
    upgrade(fresh, extension_folders=[LSPRO_MIGRATIONS])
    assert {"certificate", "invoice", "panel_member"} <= set(
        sa.inspect(fresh).get_table_names())
    fresh.dispose()


def _task_ids(engine: Engine, instance_id: str) -> list[str]:
    with engine.read() as s:
        return list(s.session.scalars(sa.select(Task.id).where(
            Task.instance_id == instance_id).order_by(Task.created_at, Task.element_id)))


def test_a_finished_instance_keeps_what_its_readers_ask_for(engine: Engine,
                                                            clock: FrozenClock) -> None:
    """Variables, each user task's data as it was completed, no active element; the
    whole workflow (tasks, subprocesses, their copies of the data) is not kept."""
    odd = {"typename": "not a marker", "when": datetime(2027, 3, 1, 9, 30, tzinfo=UTC)}
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 4).encode())])
        instance_id = s.runtime.start_instance("linear", variables={"n": 0, "odd": odd}).id
    for step in range(4):
        clock.advance(timedelta(minutes=1))
        with engine.write() as s:
            task_id = s.session.scalars(sa.select(Task.id).where(
                Task.instance_id == instance_id, Task.state == "ready")).one()
            s.runtime.complete_task(task_id, {"n": [1, 1, 2, 3][step],
                                              f"s{step}": [step]}, actor="u")
        if step == 2:  # the completed tasks' data, read from the whole workflow
            with engine.read() as s:
                running = s.runtime.instance(instance_id)
                before = [s.runtime.task_data(running, t) for t in _task_ids(engine, instance_id)]
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert row.status == "completed"
        state = zlib.decompress(row.state).decode()
        variables = s.runtime.variables(row)
        after = [s.runtime.task_data(row, t) for t in _task_ids(engine, instance_id)]
        active = s.runtime.active_elements(row)
    assert '"children"' not in state and len(row.state) < 600
    assert variables == {"n": 3, "odd": odd, "s0": [0], "s1": [1], "s2": [2], "s3": [3]}
    assert after[:3] == before[:3] and after[3] == variables
    assert active == []


def test_a_cancelled_instance_keeps_its_variables(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])
        instance_id = s.runtime.start_instance("linear", variables={"n": 7}).id
    with engine.write() as s:
        s.runtime.cancel(instance_id, actor="admin", reason="salah input")
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert (row.status, s.runtime.variables(row)) == ("cancelled", {"n": 7})
        assert s.runtime.active_elements(row) == []
        assert "finished" in zlib.decompress(row.state).decode()[:40]


def test_a_finished_instance_stored_whole_before_is_still_read(engine: Engine) -> None:
    """Rows written before finished states were cut down keep their whole workflow."""
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 1).encode())])
        instance_id = s.runtime.start_instance("linear", variables={"n": 1}).id
    with engine.write() as s:
        task_id = s.session.scalars(sa.select(Task.id).where(Task.instance_id == instance_id)).one()
        run = s.runtime.loader.workflow(s.runtime.loader.instance(instance_id))
        run.complete_user_task(task_id, {"n": 2})
        run.advance()
        assert run.completed
        whole = dump_state(run._wf)  # what a completed instance's save wrote before
        row = s.session.get(ProcessInstance, instance_id)
        row.state, row.status = whole, "completed"
    with engine.read() as s:
        row = s.runtime.instance(instance_id)
        assert s.runtime.variables(row) == {"n": 2}
        assert s.runtime.task_data(row, task_id) == {"n": 2}
        assert s.runtime.active_elements(row) == []
