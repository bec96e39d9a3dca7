"""UUID ids as 16 bytes on SQLite (revisions 0018 and lspro_0003): old rows converted,
found by the typed queries, their keys and cascades intact, and written so anew."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm
from alembic import command as alembic_command

from engine.composition import Engine
from engine.identity.access import Actor
from engine.models import (
    DataStoreEntry,
    Document,
    DocumentRender,
    EventSubscription,
    HistoryEvent,
    HistoryValue,
    Incident,
    InstanceSearchWord,
    Notification,
    ProcessInstance,
    SlaBreach,
    Task,
    TaskCandidate,
    Timer,
)
from engine.persistence.db import CompactUUID, create_db_engine
from engine.persistence.migrate import alembic_config, upgrade
from lspro.extension import MIGRATIONS as LSPRO_MIGRATIONS
from lspro.models import Certificate, CertificateEvent, Invoice, PanelMember
from tests.builders import linear_user_tasks

INSTANCE = "0b5e3f55-2f4c-4c1e-9d0a-6d2f1f3c9a01"
TASK = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
OTHER_TASK = "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6"
DOCUMENT = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"
CLAIM = "4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c8"
CERTIFICATE = "5a6b7c8d-9e0f-4a1b-8c2d-e3f4a5b6c7d8"
OLD_CERTIFICATE = "6b7c8d9e-0f1a-4b2c-9d3e-f4a5b6c7d8e9"
INVOICE = "7c8d9e0f-1a2b-4c3d-8e4f-a5b6c7d8e9f0"
# An instance whose ids are no UUIDs (a test's, an import's): they stay text.
LEGACY = "legacy-1"
MICROS = 1_793_606_400_000_000  # 2026-11-02 08:00 UTC, as 0017 stores moments
TEXT_MOMENT = "2026-11-02 08:00:00.000000"  # a UTCDateTime column's SQLite text

# Every column that holds an id, with the id the old rows hold there.
ENGINE_IDS: dict[sa.orm.InstrumentedAttribute[str | None], str] = {
    ProcessInstance.id: INSTANCE, Task.id: TASK, Task.instance_id: INSTANCE,
    TaskCandidate.task_id: TASK, Document.id: DOCUMENT, Document.instance_id: INSTANCE,
    DocumentRender.document_id: DOCUMENT, DocumentRender.instance_id: INSTANCE,
    DocumentRender.claim: CLAIM, HistoryEvent.instance_id: INSTANCE,
    HistoryValue.instance_id: INSTANCE, InstanceSearchWord.instance_id: INSTANCE,
    Timer.instance_id: INSTANCE, Timer.task_id: OTHER_TASK,
    EventSubscription.instance_id: INSTANCE, EventSubscription.task_id: OTHER_TASK,
    Incident.instance_id: INSTANCE, Incident.task_id: OTHER_TASK,
    SlaBreach.instance_id: INSTANCE, SlaBreach.task_id: TASK,
    Notification.instance_id: INSTANCE, Notification.task_id: TASK,
    DataStoreEntry.updated_by: INSTANCE,
}
LSPRO_IDS: dict[sa.orm.InstrumentedAttribute[str | None], str] = {
    Certificate.id: CERTIFICATE, Certificate.instance_id: INSTANCE,
    Certificate.supersedes: OLD_CERTIFICATE, CertificateEvent.certificate_id: CERTIFICATE,
    CertificateEvent.instance_id: INSTANCE, Invoice.id: INVOICE,
    Invoice.instance_id: INSTANCE, PanelMember.instance_id: INSTANCE,
}
IDS = {**ENGINE_IDS, **LSPRO_IDS}


def _old_rows(db: sa.Engine) -> None:
    """Rows as the code of revisions 0017 and lspro_0002 wrote them: ids as text."""
    upgrade(db, "0017")
    upgrade(db, "lspro_0002", extension_folders=[LSPRO_MIGRATIONS])
    statements = [
        "INSERT INTO deployment (id, name, source, deployed_at) VALUES "
        "('dep', 'd', 'test', :text_at)",
        "INSERT INTO process_definition (id, key, version, content_hash, deployment_id, "
        "resource_name, bpmn_xml, spec, deployed_at) VALUES "
        "('k:1', 'k', 1, 'h', 'dep', 'k.bpmn', '', '{}', :text_at)",
        "INSERT INTO process_instance (id, definition_id, definition_key, status, state, "
        "revision, started_at, updated_at) VALUES "
        "(:instance, 'k:1', 'k', 'running', x'', 1, :at, :at), "
        "(:legacy, 'k:1', 'k', 'running', x'', 1, :at, :at)",
        "INSERT INTO task (id, instance_id, definition_key, element_id, state, priority, "
        "properties, created_at, due_order, candidate_groups, candidate_users) VALUES "
        "(:task, :instance, 'k', 'e', 'ready', 50, '{}', :at, :at, '[]', '[]'), "
        "('t1', :legacy, 'k', 'e', 'ready', 50, '{}', :at, :at, '[]', '[]')",
        "INSERT INTO task_candidate (task_id, kind, value, state) VALUES "
        "(:task, 'group', 'upp', 'ready'), ('t1', 'group', 'upp', 'ready')",
        "INSERT INTO document (id, instance_id, name, content_type, uploaded_at) VALUES "
        "(:document, :instance, 'a.pdf', 'application/pdf', :at)",
        "INSERT INTO document_render (document_id, instance_id, renderer, input, attempts, "
        "claim) VALUES (:document, :instance, 'pdf', x'', 0, :claim)",
        "INSERT INTO history_event (instance_id, at, kind) VALUES "
        "(:instance, :at, 'instance_started'), (:legacy, :at, 'instance_started')",
        "INSERT INTO history_value (instance_id, hash, size, value) VALUES "
        "(:instance, 'h', 0, x'')",
        "INSERT INTO instance_search_word (instance_id, word) VALUES "
        "(:instance, 'biskuit'), (:legacy, 'biskuit')",
        "INSERT INTO timer (instance_id, task_id, element_id, kind, due_at) VALUES "
        "(:instance, :other_task, 'wait', 'date', :text_at)",
        "INSERT INTO event_subscription (instance_id, task_id, element_id, kind, name) VALUES "
        "(:instance, :other_task, 'paid', 'message', 'paid')",
        "INSERT INTO incident (instance_id, task_id, kind, message, status, created_at) VALUES "
        "(:instance, :other_task, 'script', 'boom', 'open', :text_at)",
        "INSERT INTO sla_breach (task_id, instance_id, definition_key, element_id, roles, "
        "due_at, detected_at) VALUES (:task, :instance, 'k', 'e', 'upp', :text_at, :text_at)",
        "INSERT INTO notification (kind, subject, body, instance_id, task_id, created_at, "
        "email_attempts) VALUES ('new_task', 's', 'b', :instance, :task, :text_at, 0)",
        "INSERT INTO data_store_entry (name, updated_at, updated_by) VALUES "
        "('fees', :text_at, :instance)",
        "INSERT INTO certificate (id, number, sequence, company, product_code, product_name, "
        "sni, scheme_type, brands, instance_id, state, issued_on, expires_on, "
        "revocation_published, created_at, updated_at, superseded_by, supersedes) VALUES "
        "(:old_certificate, 'N-1', 1, 'PT A', 'p', 'p', 's', 5, '[]', :instance, 'ditarik', "
        "'2026-11-02', '2030-11-02', 0, :text_at, :text_at, :certificate, NULL), "
        "(:certificate, 'N-2', 2, 'PT A', 'p', 'p', 's', 5, '[]', :instance, 'aktif', "
        "'2026-11-02', '2030-11-02', 0, :text_at, :text_at, NULL, :old_certificate)",
        "INSERT INTO certificate_event (certificate_id, at, kind, instance_id) VALUES "
        "(:certificate, :text_at, 'issued', :instance)",
        "INSERT INTO invoice (id, code, subject, schedules, lines, total, currency, "
        "legal_basis, instance_id, state, issued_at, due_at, updated_at) VALUES "
        "(:invoice, 'C1', 'S', 'a', '[]', 1, 'IDR', 'PP', :instance, 'terbit', :text_at, "
        ":text_at, :text_at)",
        "INSERT INTO panel_member (application_number, kind, username, source, instance_id, "
        "recorded_at) VALUES ('A-1', 'panel', 'rina', 'form', :instance, :text_at)",
    ]
    values = {"instance": INSTANCE, "legacy": LEGACY, "task": TASK, "other_task": OTHER_TASK,
              "document": DOCUMENT, "claim": CLAIM, "certificate": CERTIFICATE,
              "old_certificate": OLD_CERTIFICATE, "invoice": INVOICE, "at": MICROS,
              "text_at": TEXT_MOMENT}
    with db.begin() as conn:
        for statement in statements:
            clause = sa.text(statement)
            conn.execute(clause, {k: v for k, v in values.items() if f":{k}" in statement})


def _forms(conn: sa.Connection, ids: dict[sa.orm.InstrumentedAttribute[str | None], str]
           ) -> dict[str, set[str]]:
    """Each id column's SQLite storage classes (raw SQL: what is on disk), the legacy
    instance's text ids left out."""
    forms = {}
    for attribute in ids:
        table, column = attribute.class_.__tablename__, attribute.key
        forms[f"{table}.{column}"] = set(conn.scalars(sa.text(
            f"SELECT typeof({column}) FROM {table} WHERE {column} NOT IN ('legacy-1', 't1')")))
    return forms


def _found(session: sa.orm.Session) -> dict[str, list[str]]:
    """What a typed query by each id column finds, read back as text."""
    return {f"{a.class_.__tablename__}.{a.key}": list(session.scalars(
                sa.select(a).where(a == value).distinct()))
            for a, value in IDS.items()}


def test_0018_and_lspro_0003_store_old_ids_as_bytes_that_the_queries_find(
        tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")  # foreign keys on, as served
    _old_rows(db)
    upgrade(db, extension_folders=[LSPRO_MIGRATIONS])
    with db.connect() as conn:
        forms = _forms(conn, IDS)
        legacy = set(conn.execute(sa.text(
            "SELECT typeof(id) FROM process_instance WHERE typeof(id) = 'text' UNION ALL "
            "SELECT typeof(id) || ' ' || id FROM task WHERE instance_id = 'legacy-1'")))
        broken_keys = conn.execute(sa.text("PRAGMA foreign_key_check")).all()
    with sa.orm.Session(db) as session:
        found = _found(session)
        legacy_words = list(session.scalars(sa.select(InstanceSearchWord.instance_id)
                                            .order_by(InstanceSearchWord.instance_id)))
        joined = session.execute(
            sa.select(Task.id, ProcessInstance.id, TaskCandidate.value)
            .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
            .join(TaskCandidate, TaskCandidate.task_id == Task.id)
            .order_by(Task.id)).all()
    with db.begin() as conn:
        # The trigger of 0015 finds the candidates by the task's (packed) id.
        conn.execute(sa.update(Task).where(Task.id == TASK).values(state="completed"))
        states = dict(conn.execute(sa.select(TaskCandidate.task_id, TaskCandidate.state)).all())
    assert broken_keys == []
    assert forms == {name: {"blob"} for name in forms}
    assert legacy == {("text",), ("text t1",)}
    assert found == {name: [value] for name, value in
                     ((f"{a.class_.__tablename__}.{a.key}", v) for a, v in IDS.items())}
    assert legacy_words == [LEGACY, INSTANCE]  # SQLite sorts text before bytes
    assert joined == [("t1", LEGACY, "upp"), (TASK, INSTANCE, "upp")]
    assert states == {TASK: "completed", "t1": "ready"}

    # A cascade follows the packed keys: the instance's rows go with it.
    with sa.orm.Session(db) as session, session.begin():
        session.execute(sa.delete(ProcessInstance).where(ProcessInstance.id == INSTANCE))
    with db.connect() as conn:
        left = {name: kinds for name, kinds in _forms(conn, ENGINE_IDS).items() if kinds}
        legacy_left = conn.scalar(sa.text("SELECT count(*) FROM task WHERE instance_id = :i"),
                                  {"i": LEGACY})
    # No key to the instance: the data store's value outlives it.
    assert left == {"data_store_entry.updated_by": {"blob"}} and legacy_left == 1
    db.dispose()


def test_downgrades_give_the_ids_back_as_text(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _old_rows(db)
    with db.connect() as conn:
        before = {name: list(conn.scalars(sa.text(f"SELECT {name.split('.')[1]} FROM "
                                                  f"{name.split('.')[0]} ORDER BY 1")))
                  for name in _forms(conn, IDS)}
    upgrade(db, extension_folders=[LSPRO_MIGRATIONS])
    with db.begin() as conn:
        config = alembic_config(str(db.url), [LSPRO_MIGRATIONS])
        config.attributes["connection"] = conn
        alembic_command.downgrade(config, "lspro_0002")
        alembic_command.downgrade(config, "0017")
    with db.connect() as conn:
        forms = _forms(conn, IDS)
        after = {name: list(conn.scalars(sa.text(f"SELECT {name.split('.')[1]} FROM "
                                                 f"{name.split('.')[0]} ORDER BY 1")))
                 for name in forms}
        versions = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
        broken_keys = conn.execute(sa.text("PRAGMA foreign_key_check")).all()
    db.dispose()
    assert versions == {"0017", "lspro_0002"} and broken_keys == []
    assert forms == {name: {"text"} for name in forms}
    assert after == before


def test_new_ids_are_bytes_on_sqlite_and_text_on_postgresql(engine: Engine) -> None:
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 2).encode())])
        instance = s.runtime.start_instance("linear", business_key="APP-1")
    with engine.read() as s:
        task = s.session.scalars(sa.select(Task).where(Task.instance_id == instance.id)).one()
        conn = s.session.connection()
        forms = set(conn.scalars(sa.text(
            "SELECT typeof(id) FROM process_instance UNION SELECT typeof(id) FROM task "
            "UNION SELECT typeof(task_id) FROM task_candidate "
            "UNION SELECT typeof(instance_id) FROM history_event "
            "UNION SELECT typeof(instance_id) FROM instance_search_word")
        )) if engine.db.is_sqlite else {
            type(v).__name__ for v in conn.execute(sa.text(
                "SELECT p.id, t.id FROM process_instance p JOIN task t ON t.instance_id = p.id")
            ).one()}
        # The words are stored with the instance's id as the search reads it.
        found = [i.id for i in s.queries.instances(Actor.of("admin", ["admin"]),
                                                  search="app").items]
    assert task.instance_id == instance.id and isinstance(task.id, str) and len(task.id) == 36
    assert forms == ({"blob"} if engine.db.is_sqlite else {"str"})
    assert found == [instance.id]


@pytest.mark.parametrize("attribute", list(IDS), ids=lambda a: f"{a.class_.__tablename__}.{a.key}")
def test_every_uuid_column_is_compact(attribute: sa.orm.InstrumentedAttribute[str | None]
                                      ) -> None:
    assert isinstance(attribute.property.columns[0].type, CompactUUID)
